"""The consent pages without scripts: the patient types their name, the clinician countersigns,
the printable page shows the hashes, the session form says when consent is missing, and a
withdrawal stops further sessions."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import ClinicStaff
from tests.intakes import intake
from tests.integration.web.conftest import new_patient, screen, sign_in


def _signed_screening(client: TestClient, csrf: str, patient: str) -> str:
    screening = screen(client, csrf, patient, intake("female"))
    page = client.get(f"/screenings/{screening}").text
    version = page.split('name="version" value="')[1].split('"')[0]
    client.post(f"/screenings/{screening}/sign", data={"csrf": csrf, "version": version})
    return screening


def _session_form(csrf: str) -> dict[str, str]:
    return {"csrf": csrf, "performed_at": "2026-11-25T08:30", "product": "Biotin",
            "lot_number": "L1", "expiry": "2027-06-30", "points": "10",
            "volume_per_point_ml": "0.05", "depth_mm": "1.5"}  # fmt: skip


def test_consent_is_typed_countersigned_printed_and_then_allows_a_session(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The whole consent round without scripts, in Vietnamese for the document."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    session_page = browser.get(f"/patients/{patient}/sessions/new").text
    assert 'id="consent-needed"' in session_page
    refused = browser.post(f"/patients/{patient}/sessions/new", data=_session_form(csrf))
    assert refused.status_code == 409
    screening = _signed_screening(browser, csrf, patient)
    assert f'href="/screenings/{screening}/consent"' in browser.get(f"/screenings/{screening}").text
    document = browser.get(f"/screenings/{screening}/consent?doc=vi").text
    assert "Hoại tử da" in document  # skin necrosis, from the knowledge base, in Vietnamese
    assert 'name="template_version" value="1"' in document
    form = {"csrf": csrf, "doc_lang": "vi", "template_version": "1", "signature_method": "typed",
            "typed_name": "Nguyen Lan", "confirmed": "yes"}  # fmt: skip
    unconfirmed = browser.post(f"/screenings/{screening}/consent", data=form | {"confirmed": ""})
    assert unconfirmed.status_code == 400
    assert "confirmed" in unconfirmed.text
    taken = browser.post(f"/screenings/{screening}/consent", data=form, follow_redirects=False)
    assert taken.status_code == 303, taken.text
    consent_url = taken.headers["location"]
    page = browser.get(consent_url).text
    assert 'class="status-draft"' in page
    version = page.split('name="version" value="')[1].split('"')[0]
    browser.post(f"{consent_url}/countersign", data={"csrf": csrf, "version": version})
    printable = browser.get(consent_url).text
    assert 'class="status-signed"' in printable
    assert staff.users[Role.CLINICIAN].username in printable
    assert re.search(r'id="document-hash">sha256:[0-9a-f]{64}<', printable)
    assert "The document matches this hash." in printable
    assert "Nguyen Lan" in printable
    recorded = browser.post(f"/patients/{patient}/sessions/new", data=_session_form(csrf),
                            follow_redirects=False)  # fmt: skip
    assert recorded.status_code == 303, recorded.text
    assert "consent-needed" not in browser.get(f"/patients/{patient}/sessions/new").text
    browser.post(f"{consent_url}/withdraw", data={"csrf": csrf, "reason": "travelling"})
    assert 'class="status-withdrawn"' in browser.get(consent_url).text
    again = browser.post(f"/patients/{patient}/sessions/new", data=_session_form(csrf))
    assert again.status_code == 409
    assert "withdrew" in again.text
    assert 'data-status="withdrawn"' in browser.get(f"/patients/{patient}").text


def test_a_nurse_takes_consent_but_only_a_clinician_countersigns(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The nurse sees no countersign button and a posted countersignature is refused."""
    csrf = sign_in(browser, staff, Role.NURSE)
    patient = new_patient(browser, csrf)
    clinician = staff.principal(Role.CLINICIAN)
    screening = services.screenings.screen_intake(clinician, patient, intake("female"))
    services.screenings.sign(clinician, screening.id, screening.version)
    form = {"csrf": csrf, "doc_lang": "en", "template_version": "1", "signature_method": "typed",
            "typed_name": "Lan Nguyen", "confirmed": "yes"}  # fmt: skip
    taken = browser.post(f"/screenings/{screening.id}/consent", data=form, follow_redirects=False)
    assert taken.status_code == 303, taken.text
    page = browser.get(taken.headers["location"]).text
    assert 'id="countersign"' not in page
    refused = browser.post(f"{taken.headers['location']}/countersign",
                           data={"csrf": csrf, "version": "1"})  # fmt: skip
    assert refused.status_code == 403
