"""Pages of their own for treatment sessions and adverse events: open, change the draft, sign,
correct (a new version), void, and resolve an adverse event so it leaves the worklist."""

from __future__ import annotations

import html
import re
from datetime import date

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import ClinicStaff, give_consent, plan_request, seed_clinic
from tests.intakes import intake
from tests.integration.web.conftest import (
    TestClient,
    new_browser,
    new_patient,
    sign_in,
)

TODAY = date(2026, 11, 25)  # the frozen clock's day


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no field {name}"
    return found.group(1)


def _form_key(browser: TestClient, path: str) -> str:
    return _field(browser.get(path).text, "form_key")


def _session(browser: TestClient, csrf: str, patient: str) -> str:
    form = {"csrf": csrf, "form_key": _form_key(browser, f"/patients/{patient}/sessions/new"),
            "performed_at": "2026-11-25T08:30", "product": "Biotin", "lot_number": "LOT-7",
            "expiry": "2027-06-30", "points": "40", "volume_per_point_ml": "0.05",
            "depth_mm": "1.5"}  # fmt: skip
    made = browser.post(f"/patients/{patient}/sessions/new", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    location = str(made.headers["location"])
    assert location.startswith("/sessions/")
    return location.rsplit("/", 1)[1]


def _event(browser: TestClient, csrf: str, patient: str, follow_up: str = "2026-11-25") -> str:
    form = {"csrf": csrf, "form_key": _form_key(browser, f"/patients/{patient}/adverse-events/new"),
            "complication_id": "bruising", "onset_at": "2026-11-24T09:00",
            "severity_grade": "1", "outcome": "recovering", "follow_up_on": follow_up}  # fmt: skip
    made = browser.post(f"/patients/{patient}/adverse-events/new", data=form,
                        follow_redirects=False)  # fmt: skip
    assert made.status_code == 303, made.text
    location = str(made.headers["location"])
    assert location.startswith("/adverse-events/")
    return location.rsplit("/", 1)[1]


def test_a_session_is_opened_changed_signed_and_corrected_as_a_new_version(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The draft changes in place; once signed it is corrected by a new draft that replaces it,
    and the original stays as it was."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    browser.cookies.set("mesoscreen_tz", "UTC")
    patient = new_patient(browser, csrf, "Pham")
    give_consent(services.patients, services.screenings, services.consents, staff, patient)
    session = _session(browser, csrf, patient)
    page = browser.get(f"/sessions/{session}").text
    assert "LOT-7" in page
    assert 'id="sign-form"' in page
    edit = browser.get(f"/sessions/{session}/edit").text
    changed = {"csrf": csrf, "version": _field(edit, "version"), "performed_at": "2026-11-25T08:30",
               "product": "Biotin", "lot_number": "LOT-8", "expiry": "2027-06-30",
               "points": "40", "volume_per_point_ml": "0.05", "depth_mm": "1.5"}  # fmt: skip
    saved = browser.post(f"/sessions/{session}/edit", data=changed, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    page = browser.get(f"/sessions/{session}").text
    assert "LOT-8" in page
    signed = browser.post(f"/sessions/{session}/sign", follow_redirects=False,
                          data={"csrf": csrf, "version": _field(page, "version")})  # fmt: skip
    assert signed.status_code == 303
    page = browser.get(f"/sessions/{session}").text
    assert 'id="correct-form"' in page
    assert 'id="sign-form"' not in page
    assert browser.post(f"/sessions/{session}/edit", data=changed).status_code == 409
    corrected = browser.post(f"/sessions/{session}/amend", data={"csrf": csrf},
                             follow_redirects=False)  # fmt: skip
    assert corrected.status_code == 303
    draft = str(corrected.headers["location"]).split("/")[2]
    assert draft != session
    assert 'id="replaced-notice"' in browser.get(f"/sessions/{session}").text
    assert 'id="corrects"' in browser.get(f"/sessions/{draft}").text
    clinician = staff.principal(Role.CLINICIAN)
    original = services.treatment_sessions.open(clinician, session)
    assert original.record.status == "signed"
    assert original.replaced_by == draft
    timeline = browser.get(f"/patients/{patient}").text
    assert f'href="/sessions/{draft}"' in timeline


def test_resolving_an_adverse_event_takes_it_off_the_worklist_and_today(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """A signed event due for follow-up today is listed; resolved with its outcome and date it
    leaves both lists, and its resolution is a new version to sign."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Bui")
    event = _event(browser, csrf, patient)
    page = browser.get(f"/adverse-events/{event}").text
    browser.post(f"/adverse-events/{event}/sign",
                 data={"csrf": csrf, "version": _field(page, "version")})  # fmt: skip
    assert event in browser.get("/worklist").text
    assert event in browser.get("/today").text
    page = browser.get(f"/adverse-events/{event}").text
    assert 'id="resolve-form"' in page
    resolve = {"csrf": csrf, "version": _field(page.split('id="resolve-form"')[1], "version"),
               "outcome": "resolved", "resolved_on": "2026-11-25"}  # fmt: skip
    future = browser.post(f"/adverse-events/{event}/resolve",
                          data=resolve | {"resolved_on": "2026-12-01"})  # fmt: skip
    assert future.status_code == 400
    assert "resolved_on" in html.unescape(future.text)
    done = browser.post(f"/adverse-events/{event}/resolve", data=resolve, follow_redirects=False)
    assert done.status_code == 303, done.text
    resolved = str(done.headers["location"]).rsplit("/", 1)[1]
    resolved_page = browser.get(f"/adverse-events/{resolved}").text
    assert 'id="resolved-on"' in resolved_page
    assert 'id="resolve-form"' not in resolved_page
    assert event not in browser.get("/worklist").text
    assert resolved not in browser.get("/worklist").text
    today = browser.get("/today").text
    assert event not in today
    follow_ups = today.split('id="day-follow-ups"')[1].split("</section>")[0]
    assert resolved not in follow_ups, "listed as a draft to sign, not as a follow-up"


def test_a_voided_event_needs_a_reason_and_leaves_the_worklist(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Without a reason nothing happens; with one the page says void, the timeline strikes it
    through and the worklist drops it."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Dang")
    event = _event(browser, csrf, patient)
    assert event in browser.get("/worklist").text
    empty = browser.post(f"/adverse-events/{event}/void", data={"csrf": csrf, "reason": " "})
    assert empty.status_code == 400
    assert 'id="void-notice"' not in empty.text
    voided = browser.post(f"/adverse-events/{event}/void", follow_redirects=False,
                          data={"csrf": csrf, "reason": "reported twice"})  # fmt: skip
    assert voided.status_code == 303
    page = browser.get(f"/adverse-events/{event}").text
    assert 'id="void-notice"' in page
    assert "reported twice" in page
    assert 'id="resolve-form"' not in page
    assert event not in browser.get("/worklist").text
    timeline = browser.get(f"/patients/{patient}").text
    assert re.search(rf'class="entry entry-adverse_event voided"[^>]*data-id="{event}"', timeline)
    again = browser.post(f"/adverse-events/{event}/void", data={"csrf": csrf, "reason": "x"})
    assert again.status_code == 409


def test_reception_gets_403_and_another_clinic_404_on_every_record_page(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The same roles and tenancy as the other clinical pages, for reading and for acting."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Ly")
    give_consent(services.patients, services.screenings, services.consents, staff, patient)
    records = {"sessions": _session(browser, csrf, patient),
               "adverse-events": _event(browser, csrf, patient)}  # fmt: skip
    other = seed_clinic(services.accounts)
    for role, code in ((Role.RECEPTION, 403), (Role.CLINICIAN, 404)):
        with new_browser(services) as visitor:
            who = staff if role == Role.RECEPTION else other
            token = sign_in(visitor, who, role)
            for section, record in records.items():
                assert visitor.get(f"/{section}/{record}").status_code == code, (role, section)
                assert visitor.get(f"/{section}/{record}/edit").status_code == code
                for action in ("sign", "amend", "void"):
                    form = {"csrf": token, "version": "1", "reason": "x"}
                    answer = visitor.post(f"/{section}/{record}/{action}", data=form)
                    assert answer.status_code == code, (role, section, action)


def test_a_voided_plan_leaves_the_worklist_and_cannot_be_signed(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """A plan made in error is voided from its page: its sessions are no longer due, and the
    page offers neither signing nor a session from it."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Voided", "male")
    clinician = staff.principal(Role.CLINICIAN)
    screening = services.screenings.screen_intake(clinician, patient, intake("male"))
    services.screenings.sign(clinician, screening.id, screening.version)
    plan = services.plans.create(clinician, screening.id, plan_request(first_session=TODAY))
    assert patient in browser.get("/worklist").text
    page = browser.get(f"/plans/{plan.id}").text
    assert 'id="void-form"' in page
    voided = browser.post(f"/plans/{plan.id}/void", follow_redirects=False,
                          data={"csrf": csrf, "reason": "wrong product chosen"})  # fmt: skip
    assert voided.status_code == 303
    page = browser.get(f"/plans/{plan.id}").text
    assert "wrong product chosen" in page
    assert f'action="/plans/{plan.id}/sign"' not in page
    assert patient not in browser.get("/worklist").text
    refused = browser.post(f"/plans/{plan.id}/sign", data={"csrf": csrf, "version": "1"})
    assert refused.status_code == 409
