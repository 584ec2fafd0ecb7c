"""Records name people: a display name on every account, shown where they acted, and an audit
page with a who column, events in words and filters by person, patient, event and date."""

from __future__ import annotations

import re
from datetime import timedelta

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.audit_words import event_in_words
from mesoscreen.entrypoints.web.i18n import messages
from tests.factories import PASSWORD, ClinicStaff
from tests.intakes import intake
from tests.integration.web.conftest import (
    TestClient,
    csrf_in,
    new_browser,
    new_patient,
    screen,
    sign_in,
)

DOCTOR = "BS. Nguyễn Thị Hoa"


def _name_the_clinician(services: Services, staff: ClinicStaff) -> None:
    """The admin gives the clinician a display name through the users page."""
    with new_browser(services) as admin:
        csrf = sign_in(admin, staff, Role.ADMIN)
        clinician = staff.users[Role.CLINICIAN]
        page = admin.get("/admin/users").text
        version = page.split(f'action="/admin/users/{clinician.id}"', 1)[1]
        version = version.split('name="version" value="', 1)[1].split('"', 1)[0]
        changed = admin.post(f"/admin/users/{clinician.id}", data={
            "csrf": csrf, "version": version, "role": "clinician", "display_name": DOCTOR,
        }, follow_redirects=False)  # fmt: skip
        assert changed.status_code == 303, changed.text
        listed = admin.get("/admin/users").text
        assert f'<td class="display-name">{DOCTOR}</td>' in listed


def _consent(client: TestClient, csrf: str, patient: str) -> str:
    screening = screen(client, csrf, patient, intake("female"))
    page = client.get(f"/screenings/{screening}").text
    version = page.split('name="version" value="')[1].split('"')[0]
    client.post(f"/screenings/{screening}/sign", data={"csrf": csrf, "version": version})
    taken = client.post(f"/screenings/{screening}/consent", data={
        "csrf": csrf, "doc_lang": "en", "template_version": "1", "signature_method": "typed",
        "typed_name": "Nguyen Lan", "confirmed": "yes"}, follow_redirects=False)  # fmt: skip
    url = str(taken.headers["location"])
    version = client.get(url).text.split('name="version" value="')[1].split('"')[0]
    client.post(f"{url}/countersign", data={"csrf": csrf, "version": version})
    return url


def test_the_consent_its_print_and_the_timeline_name_people_never_by_id(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Taken by and countersigned by show the display name; no user id appears."""
    _name_the_clinician(services, staff)
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    consent = browser.get(_consent(browser, csrf, patient)).text
    clinician_id = staff.users[Role.CLINICIAN].id
    assert clinician_id not in consent
    assert f"taken by {DOCTOR}" in consent
    countersigned = consent.split('id="countersignature">', 1)[1].split("</dd>", 1)[0]
    assert DOCTOR in countersigned
    timeline = browser.get(f"/patients/{patient}").text
    assert f'<span class="by">by {DOCTOR}</span>' in timeline
    assert clinician_id not in timeline.split('id="timeline"', 1)[1]


def test_a_person_without_a_display_name_is_shown_by_username(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Until an admin sets a name, the username stands in (still never the id)."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    consent = browser.get(_consent(browser, csrf, patient)).text
    assert f"taken by {staff.users[Role.CLINICIAN].username}" in consent


def test_the_audit_page_says_who_did_what_in_words_and_filters(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """A who column, events in words in English and Vietnamese, and filters by person,
    patient, event family and date."""
    _name_the_clinician(services, staff)
    with new_browser(services) as clinic:
        csrf = sign_in(clinic, staff, Role.CLINICIAN)
        patient = new_patient(clinic, csrf)
        other = new_patient(clinic, csrf, family="Tran")
        _consent(clinic, csrf, patient)
    sign_in(browser, staff, Role.ADMIN)
    clinician = staff.users[Role.CLINICIAN].id
    page = browser.get(f"/admin/audit?who={clinician}").text
    rows = re.findall(r'<tr data-event="([^"]+)">.*?<td class="who">([^<]*)</td>', page, re.S)
    assert rows
    assert {who for _, who in rows} == {DOCTOR}
    assert "Consent · signed" in page
    assert "consent.sign<" not in page
    by_event = browser.get(f"/admin/audit?event=consent&who={clinician}").text
    events = set(re.findall(r'<tr data-event="([^"]+)"', by_event))
    assert events
    assert all(e.startswith("consent.") for e in events)
    about = browser.get(f"/admin/audit?patient={other}").text
    assert set(re.findall(r'<tr data-event="([^"]+)"', about)) == {"patient.create"}
    today = services.clock.today()
    before = (today - timedelta(days=3)).isoformat()
    none = browser.get(f"/admin/audit?since={before}&until={before}").text
    assert not re.findall(r'<tr data-event="', none)
    same_day = browser.get(f"/admin/audit?since={today}&until={today}&who={clinician}").text
    assert re.findall(r'<tr data-event="', same_day)


def test_event_names_read_as_words_in_both_languages() -> None:
    """patient.create is "Patient · created" and "Bệnh nhân · đã tạo"."""
    assert event_in_words("patient.create", messages()[Language.EN]) == "Patient · created"
    assert event_in_words("patient.create", messages()[Language.VI]) == "Bệnh nhân · đã tạo"
    assert event_in_words("patient.create.replayed", messages()[Language.EN]).count("·") == 2


def test_a_password_too_short_for_the_rule_is_refused_and_the_hint_says_the_rules_length(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """The hint and the field's minimum come from the rule (12), and a new user starts with
    no role chosen rather than administrator."""
    sign_in(browser, staff, Role.ADMIN)
    page = browser.get("/admin/users").text
    assert "At least 12 characters" in page
    assert 'minlength="12"' in page
    new_role = page.split('id="new-role"', 1)[1].split("</select>", 1)[0]
    assert re.search(r'<option value="" selected>', new_role)
    assert not re.search(r'value="admin"\s+selected', new_role)
    csrf = csrf_in(page)
    refused = browser.post("/admin/users", data={"csrf": csrf, "username": "new.nurse",
                           "password": PASSWORD, "display_name": "Lê Văn An"})  # fmt: skip
    assert refused.status_code == 400
    assert "role" in refused.text
