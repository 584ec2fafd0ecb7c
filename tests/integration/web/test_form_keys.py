"""Every page form that creates a record carries a one-use key: a second submission, made
after the first or at the same time, shows the first result instead of a duplicate."""

from __future__ import annotations

import re
import threading

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import ClinicStaff, give_consent
from tests.intakes import intake
from tests.integration.web.conftest import (
    TestClient,
    csrf_in,
    new_browser,
    new_patient,
    screen,
    sign_in,
)

_KEY = re.compile(r'name="form_key" value="([^"]+)"')


def _keys(html: str) -> list[str]:
    return _KEY.findall(html)


def _event_form(csrf: str, key: str) -> dict[str, str]:
    return {"csrf": csrf, "form_key": key, "complication_id": "bruising",
            "onset_at": "2026-11-25T09:00", "severity_grade": "1",
            "outcome": "recovering"}  # fmt: skip


def test_every_form_that_creates_a_record_carries_a_fresh_key(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Intake, session, adverse event, plan, consent, photo, outcome and required-action
    forms each carry a key, a new one each time the page is shown."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Keyed", "male")
    screening = screen(browser, csrf, patient, intake("male"))
    page = browser.get(f"/screenings/{screening}").text
    version = page.split('name="version" value="')[1].split('"')[0]
    browser.post(f"/screenings/{screening}/sign", data={"csrf": csrf, "version": version})
    give_consent(services.patients, services.screenings, services.consents, staff, patient)
    pages = [f"/patients/{patient}/intake", f"/patients/{patient}/sessions/new",
             f"/patients/{patient}/adverse-events/new", f"/screenings/{screening}/plan",
             f"/screenings/{screening}/consent", f"/patients/{patient}/photos",
             f"/patients/{patient}/outcomes"]  # fmt: skip
    for path in pages:
        first, second = browser.get(path), browser.get(path)
        assert first.status_code == 200, path
        assert _keys(first.text), f"{path}: no form_key"
        assert set(_keys(first.text)).isdisjoint(_keys(second.text)), f"{path}: key reused"
    shown = browser.get(f"/screenings/{screening}").text
    action_forms = shown.count('action="/screenings/' + screening + '/actions"')
    assert len(set(_keys(shown))) == action_forms, "one key per required-action form"


def test_an_adverse_event_posted_twice_is_stored_once(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The second post of the same form goes where the first went; one event is stored."""
    csrf = sign_in(browser, staff, Role.NURSE)
    patient = new_patient(browser, csrf)
    key = _keys(browser.get(f"/patients/{patient}/adverse-events/new").text)[0]
    first = browser.post(f"/patients/{patient}/adverse-events/new", follow_redirects=False,
                         data=_event_form(csrf, key))  # fmt: skip
    second = browser.post(f"/patients/{patient}/adverse-events/new", follow_redirects=False,
                          data=_event_form(csrf, key))  # fmt: skip
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    nurse = staff.principal(Role.NURSE)
    assert services.adverse_events.list_for_patient(nurse, patient).total == 1


def test_two_concurrent_submissions_of_one_form_store_one_record(
    staff: ClinicStaff, services: Services
) -> None:
    """Two browsers tabs of one user post the same form at the same moment: one event, and
    both are sent to it."""
    with new_browser(services) as browser:
        csrf = sign_in(browser, staff, Role.NURSE)
        patient = new_patient(browser, csrf)
        key = _keys(browser.get(f"/patients/{patient}/adverse-events/new").text)[0]
        start = threading.Barrier(2)
        answers: list[tuple[int, str]] = []

        def post() -> None:
            start.wait(timeout=10)
            path = f"/patients/{patient}/adverse-events/new"
            response = browser.post(path, follow_redirects=False, data=_event_form(csrf, key))
            answers.append((response.status_code, response.headers.get("location", "")))

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(answers) == 2
    assert answers[0] == answers[1]
    assert answers[0][0] == 303
    nurse = staff.principal(Role.NURSE)
    assert services.adverse_events.list_for_patient(nurse, patient).total == 1


def test_a_form_refused_for_bad_input_can_be_fixed_and_sent_again(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """A refused post stores nothing and claims no key: the corrected form is stored."""
    csrf = sign_in(browser, staff, Role.NURSE)
    patient = new_patient(browser, csrf)
    key = _keys(browser.get(f"/patients/{patient}/adverse-events/new").text)[0]
    bad = browser.post(f"/patients/{patient}/adverse-events/new",
                       data=_event_form(csrf, key) | {"severity_grade": "9"})  # fmt: skip
    assert bad.status_code == 400
    assert csrf_in(bad.text)
    fixed = browser.post(f"/patients/{patient}/adverse-events/new", follow_redirects=False,
                         data=_event_form(csrf, key))  # fmt: skip
    assert fixed.status_code == 303
    nurse = staff.principal(Role.NURSE)
    assert services.adverse_events.list_for_patient(nurse, patient).total == 1
