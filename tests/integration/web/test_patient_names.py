"""Vietnamese names on the pages: family name first where the patient's language is
Vietnamese (the handout too), found without accents, signed without accents."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import ClinicStaff
from tests.intakes import intake
from tests.integration.web.conftest import screen, sign_in


def _register(client: TestClient, csrf: str, family: str, given: str, language: str) -> str:
    response = client.post("/patients/new", data={"csrf": csrf, "family_name": family,
                           "given_name": given, "birth_date": "1990-04-12", "sex": "male",
                           "language": language}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).rsplit("/", 1)[1]


def test_the_handout_writes_a_vietnamese_name_family_name_first(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """ "Nguyễn Văn Minh" on the handout and the timeline, never "Văn Minh Nguyễn"."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = _register(browser, csrf, "Nguyễn", "Văn Minh", "vi")
    screening = screen(browser, csrf, patient, intake("male"))
    for page in (f"/screenings/{screening}/handout", f"/patients/{patient}",
                 f"/screenings/{screening}"):  # fmt: skip
        shown = html.unescape(browser.get(page).text)
        assert "Nguyễn Văn Minh" in shown, page
        assert "Văn Minh Nguyễn" not in shown, page


def test_an_english_patients_name_is_written_given_name_first(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Recorded as English: "John Smith" on the handout."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = _register(browser, csrf, "Smith", "John", "en")
    screening = screen(browser, csrf, patient, intake("male"))
    assert "John Smith" in browser.get(f"/screenings/{screening}/handout").text


def test_the_new_patient_form_refuses_a_language_it_does_not_offer(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """400 naming 'language'; nothing registered."""
    csrf = sign_in(browser, staff, Role.RECEPTION)
    response = browser.post("/patients/new", data={"csrf": csrf, "family_name": "Tran",
                            "given_name": "Mai", "language": "fr"})  # fmt: skip
    assert response.status_code == 400
    assert "Patient&#39;s language: choose one of the options offered." in response.text


def test_a_patient_is_found_by_their_name_typed_without_accents(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """ "nguyen van minh" and "NGUYEN minh" find Nguyễn Văn Minh in the patient list."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = _register(browser, csrf, "Nguyễn", "Văn Minh", "vi")
    for query in ("nguyen van minh", "NGUYEN minh", "Nguyễn"):
        assert f"/patients/{patient}" in browser.get("/patients", params={"q": query}).text


def test_a_consent_signed_by_typing_the_name_without_accents_is_accepted(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """A keyboard without Vietnamese input signs "nguyen van minh" for Nguyễn Văn Minh; the
    consent keeps what was typed. A different name is still refused."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = _register(browser, csrf, "Nguyễn", "Văn Minh", "vi")
    screening = screen(browser, csrf, patient, intake("male"))
    page = browser.get(f"/screenings/{screening}").text
    version = page.split('name="version" value="')[1].split('"')[0]
    browser.post(f"/screenings/{screening}/sign", data={"csrf": csrf, "version": version})
    form = {"csrf": csrf, "doc_lang": "vi", "template_version": "1", "signature_method": "typed",
            "confirmed": "yes"}  # fmt: skip
    wrong = browser.post(f"/screenings/{screening}/consent",
                         data=form | {"typed_name": "Nguyen Van Manh"})  # fmt: skip
    assert wrong.status_code == 400
    taken = browser.post(f"/screenings/{screening}/consent", follow_redirects=False,
                         data=form | {"typed_name": "nguyen van minh"})  # fmt: skip
    assert taken.status_code == 303, taken.text
    (consent,) = services.consents.list_for_patient(staff.principal(Role.CLINICIAN), patient)
    assert consent.consent.signature == "nguyen van minh"
