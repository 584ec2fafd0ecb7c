"""Every main page, in English and Vietnamese, at a desktop's 1280 and a tablet's 820 pixels,
compared with its picture in ``baselines/``; no sideways scrolling at 820 and no Python repr.

The pages come from a server of their own (``picture_clinic``: fixed names, seeded ids, a
frozen clock) in Debian's Chromium with Debian's fonts, with the browser's clock frozen too.
After a change to a page, look at the new pictures and accept them with
``MESOSCREEN_UPDATE_BASELINES=1 .venv/bin/pytest -q tests/e2e/browser/test_page_pictures.py``
(see ``pictures.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mesoscreen.bootstrap import build_services
from mesoscreen.domain.access import Role
from tests.conftest import migrated_database
from tests.e2e.browser.conftest import serving
from tests.e2e.browser.picture_clinic import PictureClinic, build_picture_clinic, seeded_ids
from tests.e2e.browser.pictures import UPDATE_ENV, compare_with_baseline, save_illustration
from tests.factories import PASSWORD, records_settings
from tests.fakes import FrozenClock
from tests.page_checks import python_reprs

pytestmark = pytest.mark.browser

BUILT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
WIDTHS = {1280: 900, 820: 1180}  # a desktop, and a tablet held upright
LANGUAGES = {"en": "en-GB", "vi": "vi-VN"}
# The pictures the README's web section shows, rewritten with the baselines.
ILLUSTRATIONS = Path(__file__).parents[3] / "docs" / "screenshots"
ILLUSTRATED = {"today-en-1280", "screening-deferred-vi-820", "plan-en-1280", "consent-sign-vi-820"}


@dataclass(frozen=True)
class PagePicture:
    """A page to picture: its name, its path (``{minh}`` and the like name seeded records),
    and who looks at it (None: signed out)."""

    name: str
    path: str
    role: Role | None = Role.CLINICIAN


PAGES = [
    PagePicture("signin", "/signin", None),
    PagePicture("today", "/today"),
    PagePicture("patients", "/patients"),
    PagePicture("patient", "/patients/{minh}"),
    PagePicture("patient-new", "/patients/new"),
    PagePicture("intake", "/patients/{smith}/intake"),
    PagePicture("screening-eligible", "/screenings/{screening}"),
    PagePicture("screening-deferred", "/screenings/{deferred}"),
    PagePicture("handout", "/screenings/{deferred}/handout"),
    PagePicture("plan-editor", "/screenings/{screening}/plan"),
    PagePicture("plan", "/plans/{plan}"),
    PagePicture("consent-sign", "/screenings/{screening}/consent"),
    PagePicture("consent", "/consents/{consent}"),
    PagePicture("session-new", "/patients/{minh}/sessions/new"),
    PagePicture("adverse-event-new", "/patients/{minh}/adverse-events/new"),
    PagePicture("worklist", "/worklist"),
    PagePicture("outcomes", "/patients/{minh}/outcomes"),
    PagePicture("photos", "/patients/{minh}/photos"),
    PagePicture("admin-users", "/admin/users", Role.ADMIN),
    PagePicture("admin-audit", "/admin/audit?since=2026-11-24&until=2026-11-24", Role.ADMIN),
]
# Where the page's words run past the screen's right edge at tablet width.
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const wide = document.documentElement.scrollWidth > width;
  const past = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && e.getClientRects().length)
    .filter(e => !e.closest('.map, .trend, svg'))
    .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''));
  return wide ? past.concat(['scrollWidth ' + document.documentElement.scrollWidth]) : [];
}"""


@pytest.fixture(scope="module")
def picture_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, PictureClinic]]:
    """A server of the picture clinic alone, built with seeded ids on the frozen clock."""
    with migrated_database("sqlite", tmp_path_factory.mktemp("pictures-db")) as url:
        clock = FrozenClock(BUILT)
        services = build_services(records_settings(url), clock)
        with seeded_ids():
            clinic = build_picture_clinic(services)
        clock.advance(NOW - BUILT)
        with serving(services) as base:
            yield base, clinic
        services.close()


@pytest.fixture(scope="module")
def signed_in(chromium: Any, picture_server: tuple[str, PictureClinic]) -> dict[Role, Any]:
    """Each role's signed-in browser state (cookies), signed in once through the form."""
    base, clinic = picture_server
    states = {}
    for role in (Role.CLINICIAN, Role.ADMIN):
        context = chromium.new_context(locale="en-GB", timezone_id="Asia/Ho_Chi_Minh")
        page = context.new_page()
        page.goto(f"{base}/signin")
        page.get_by_label("Username").fill(clinic.usernames[role])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")
        assert "/signin" not in page.url, f"{role.value} could not sign in"
        states[role] = context.storage_state()
        context.close()
    return states


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("shown", PAGES, ids=[p.name for p in PAGES])
def test_the_page_looks_as_its_baseline_without_sideways_scrolling_or_python(
    shown: PagePicture,
    language: str,
    width: int,
    chromium: Any,
    picture_server: tuple[str, PictureClinic],
    signed_in: dict[Role, Any],
) -> None:
    """The screenshot matches the baseline; at 820 px nothing runs off the right edge; no
    text on the page looks like a Python object."""
    base, clinic = picture_server
    context = chromium.new_context(
        viewport={"width": width, "height": WIDTHS[width]}, device_scale_factor=1,
        locale=LANGUAGES[language], timezone_id="Asia/Ho_Chi_Minh",
        storage_state=signed_in[shown.role] if shown.role else None, reduced_motion="reduce",
    )  # fmt: skip
    try:
        page = context.new_page()
        page.clock.set_fixed_time(NOW)
        response = page.goto(base + shown.path.format(**clinic.ids))
        assert response is not None
        assert response.status == 200, f"{shown.path}: {response.status}"
        page.wait_for_load_state("load")
        page.evaluate("document.fonts.ready")
        assert page.locator("html").get_attribute("lang") == language
        assert python_reprs(page.content()) == []
        if width == 820:
            assert page.evaluate(_OVERFLOWING) == [], f"{shown.name} overflows at 820 px"
        png = page.screenshot(full_page=True, animations="disabled", caret="hide")
    finally:
        context.close()
    name = f"{shown.name}-{language}-{width}"
    if name in ILLUSTRATED and os.environ.get(UPDATE_ENV) == "1":
        save_illustration(png, ILLUSTRATIONS / f"{name}.png")
    comparison = compare_with_baseline(name, png)
    assert comparison.difference is None, comparison.difference
