"""Nothing typed is lost at the idle timeout: a warning with a way to stay signed in, a form
posted after the timeout kept and filled in again after sign-in, and sign-in going back to
the page the user was on."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

from sqlalchemy import select

from mesoscreen.adapters.db import tables
from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import PASSWORD, ClinicStaff
from tests.fakes import FrozenClock
from tests.integration.web.conftest import TestClient, csrf_in, new_patient, sign_in

TYPED_WORDS = "swelling behind the left ear since Tuesday"


def _event_form(csrf: str) -> dict[str, str]:
    return {"csrf": csrf, "complication_id": "bruising", "onset_at": "2026-11-25T08:40",
            "severity_grade": "2", "outcome": "ongoing", "description": TYPED_WORDS}  # fmt: skip


def _sign_in_to(browser: TestClient, staff: ClinicStaff, role: Role, back: str) -> str:
    """Sign in through the form the redirect showed; where sign-in sends the browser."""
    page = browser.get(f"/signin?next={back}")
    form = {"username": staff.users[role].username, "password": PASSWORD,
            "csrf": csrf_in(page.text), "next": back}  # fmt: skip
    response = browser.post("/signin", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def _kept_fields(page: str) -> dict[str, str] | None:
    found = re.search(r'<script type="application/json" id="kept-form">(.*?)</script>', page, re.S)
    if found is None:
        return None
    data = json.loads(html.unescape(found.group(1)))
    return dict(data["fields"])


def _post_after_timeout(
    browser: TestClient, staff: ClinicStaff, clock: FrozenClock, **headers: str
) -> tuple[str, str, object]:
    csrf = sign_in(browser, staff, Role.NURSE)
    patient = new_patient(browser, csrf, "Kept")
    page = f"/patients/{patient}/adverse-events/new"
    browser.get(page)
    clock.advance(timedelta(minutes=16))
    posted = browser.post(page, data=_event_form(csrf), follow_redirects=False,
                          headers={"referer": f"https://testserver{page}"} | headers)  # fmt: skip
    return patient, page, posted


def test_a_form_posted_after_the_timeout_is_kept_sealed_and_filled_in_again_after_sign_in(
    browser: TestClient, staff: ClinicStaff, services: Services, clock: FrozenClock
) -> None:
    """Posted 16 minutes idle: nothing is recorded, the form is kept (its words not readable
    in the database), sign-in says so and goes back to the form, filled in once."""
    patient, page, posted = _post_after_timeout(browser, staff, clock)
    assert posted.status_code == 303  # type: ignore[attr-defined]
    location = posted.headers["location"]  # type: ignore[attr-defined]
    assert location == f"/signin?next={page}&kept=1"
    with services.engine.connect() as connection:
        stored = [json.dumps(row.form) for row in connection.execute(select(tables.kept_forms))]
    assert stored
    assert not any("swelling" in row for row in stored)
    assert 'id="form-kept"' in browser.get(location).text
    assert _sign_in_to(browser, staff, Role.NURSE, page) == page
    shown = browser.get(page).text
    assert 'id="form-restored"' in shown
    assert _kept_fields(shown) == {k: v for k, v in _event_form("").items() if k != "csrf"}
    assert _kept_fields(browser.get(page).text) is None, "given back once"
    nurse = staff.principal(Role.NURSE)
    assert services.adverse_events.list_for_patient(nurse, patient).total == 0, "not submitted"


def test_another_user_in_the_same_browser_never_sees_the_kept_form(
    browser: TestClient, staff: ClinicStaff, clock: FrozenClock
) -> None:
    """The clinician signing in next on the shared tablet gets an empty form."""
    _, page, posted = _post_after_timeout(browser, staff, clock)
    assert "kept=1" in posted.headers["location"]  # type: ignore[attr-defined]
    _sign_in_to(browser, staff, Role.CLINICIAN, page)
    shown = browser.get(page).text
    assert _kept_fields(shown) is None
    assert TYPED_WORDS not in shown


def test_a_post_from_another_site_is_not_kept(
    browser: TestClient, staff: ClinicStaff, clock: FrozenClock
) -> None:
    """Another site's form (its Origin) plants nothing: sign-in without a kept form."""
    _, _, posted = _post_after_timeout(browser, staff, clock, origin="https://evil.example")
    assert "kept=1" not in posted.headers["location"]  # type: ignore[attr-defined]


def test_stay_signed_in_restarts_the_idle_time(
    browser: TestClient, staff: ClinicStaff, clock: FrozenClock
) -> None:
    """The warning's button keeps the session alive; without it the session ends, and sign-in
    goes back to the page the user was on."""
    csrf = sign_in(browser, staff, Role.NURSE)
    today = browser.get("/today").text
    assert 'data-idle-seconds="900"' in today
    assert 'id="timeout-warning"' in today
    clock.advance(timedelta(minutes=14))
    refreshed = browser.post("/session/refresh", data={"csrf": csrf})
    assert refreshed.status_code == 200
    assert refreshed.json() == {"idle_seconds": 900}
    clock.advance(timedelta(minutes=14))
    assert browser.get("/patients", follow_redirects=False).status_code == 200
    clock.advance(timedelta(minutes=15, seconds=1))
    away = browser.get("/worklist", follow_redirects=False)
    assert away.headers["location"] == "/signin?next=/worklist"
    assert _sign_in_to(browser, staff, Role.NURSE, "/worklist") == "/worklist"


def test_the_refresh_needs_the_sessions_csrf_token(browser: TestClient, staff: ClinicStaff) -> None:
    """Another site cannot keep a session alive."""
    sign_in(browser, staff, Role.NURSE)
    assert browser.post("/session/refresh", data={"csrf": "wrong"}).status_code == 403
