"""The clinic's name (and its logo when set) in the header and on the prints: the handout,
the plan and the consent."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.web.letterhead import LogoError, read_logo
from tests.factories import ClinicStaff, records_settings, seed_clinic
from tests.fakes import FrozenClock
from tests.images import png
from tests.intakes import intake
from tests.integration.web.conftest import new_browser, new_patient, screen, sign_in


def _letterhead(page: str) -> str:
    block = page.split('id="letterhead"', 1)[1].split("</div>", 1)[0]
    return html.unescape(block)


def test_the_clinics_name_is_in_the_header_and_on_every_print(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Header on screen; the letterhead (shown only in print) on handout, plan and consent."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patients = browser.get("/patients").text
    header = patients.split("<header>", 1)[1].split("</header>", 1)[0]
    assert staff.clinic.name in html.unescape(header)
    patient = new_patient(browser, csrf, "Le", "male")
    screening = screen(browser, csrf, patient, intake("male"))
    page = browser.get(f"/screenings/{screening}").text
    version = page.split('name="version" value="')[1].split('"')[0]
    browser.post(f"/screenings/{screening}/sign", data={"csrf": csrf, "version": version})
    form = {"csrf": csrf, "doc_lang": "en", "template_version": "1", "signature_method": "typed",
            "typed_name": "Le Lan", "confirmed": "yes"}  # fmt: skip
    consent = browser.post(f"/screenings/{screening}/consent", data=form, follow_redirects=False)
    assert consent.status_code == 303, consent.text
    plan_form = browser.get(f"/screenings/{screening}/plan").text
    product = plan_form.split('name="product">')[1].split('value="')[1].split('"')[0]
    saved = browser.post(f"/screenings/{screening}/plan", follow_redirects=False,
                         data={"csrf": csrf, "stage": "norwood-3", "spacing_cm": "1.0",
                               "product": product, "start": "2026-12-01", "save": "1"})  # fmt: skip
    assert saved.status_code == 303, saved.text
    for printed in (f"/screenings/{screening}/handout", consent.headers["location"],
                    saved.headers["location"]):  # fmt: skip
        assert staff.clinic.name in _letterhead(browser.get(printed).text), printed
    css = browser.get("/static/app.css").text
    assert ".print-only { display: none; }" in css
    assert "@media print {\n  .print-only { display: block; }" in css


def test_no_clinic_is_named_before_signing_in(browser: TestClient) -> None:
    """The sign-in page names no clinic (it does not know the user's)."""
    assert 'id="clinic-name"' not in browser.get("/signin").text


@pytest.fixture
def logo(tmp_path: Path) -> Path:
    """A small PNG logo."""
    path = tmp_path / "logo.png"
    path.write_bytes(png(40, 20))
    return path


@pytest.fixture
def logo_browser(database_url: str, logo: Path) -> Iterator[tuple[TestClient, Services]]:
    """A browser on a server whose settings name a logo."""
    built = build_services(records_settings(database_url, clinic_logo=logo), FrozenClock())
    try:
        with new_browser(built) as client:
            yield client, built
    finally:
        built.close()


def test_a_logo_set_in_the_settings_heads_the_pages_and_prints(
    logo_browser: tuple[TestClient, Services], logo: Path
) -> None:
    """Embedded as a data URL (the content security policy allows data: images)."""
    client, built = logo_browser
    staff = seed_clinic(built.accounts)
    sign_in(client, staff, Role.CLINICIAN)
    page = client.get("/patients").text
    encoded = base64.b64encode(logo.read_bytes()).decode()
    assert f'src="data:image/png;base64,{encoded}"' in page
    assert "img-src 'self' data:" in client.get("/patients").headers["content-security-policy"]


def test_a_logo_that_is_not_a_small_png_or_jpeg_is_refused_at_start(tmp_path: Path) -> None:
    """A clear error naming the setting, before any page is served."""
    text_file = tmp_path / "logo.svg"
    text_file.write_text("<svg/>")
    with pytest.raises(LogoError, match="clinic_logo: expected a PNG or JPEG"):
        read_logo(text_file)
    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 300_000)
    with pytest.raises(LogoError, match="at most 204800 bytes"):
        read_logo(huge)
    with pytest.raises(LogoError, match="cannot read"):
        read_logo(tmp_path / "missing.png")
