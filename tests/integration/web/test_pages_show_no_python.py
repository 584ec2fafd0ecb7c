"""Every page of a visit, in both languages, shows words and never a Python object."""

from __future__ import annotations

import pytest

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import ClinicStaff
from tests.intakes import intake
from tests.integration.web.conftest import TestClient, csrf_in, new_patient, screen, sign_in
from tests.page_checks import python_reprs


def _switch(client: TestClient, language: str) -> None:
    page = client.get("/patients").text
    token = csrf_in(page.split('action="/language"', 1)[1])
    client.post("/language", data={"language": language, "next": "/patients", "csrf": token})


def _visit_pages(client: TestClient, csrf: str) -> list[str]:
    """The pages a clinician opens in one visit, with a record of each kind."""
    patient = new_patient(client, csrf, sex="male")
    screening = screen(client, csrf, patient, intake("male"))
    page = client.get(f"/screenings/{screening}").text
    version = page.split('name="version" value="')[1].split('"')[0]
    client.post(f"/screenings/{screening}/sign", data={"csrf": csrf, "version": version})
    consent = client.post(f"/screenings/{screening}/consent", data={
        "csrf": csrf, "doc_lang": "en", "template_version": "1", "signature_method": "typed",
        "typed_name": "Nguyen Lan", "confirmed": "yes"}, follow_redirects=False)  # fmt: skip
    assert consent.status_code == 303, consent.text
    return [
        "/patients", "/patients/new", f"/patients/{patient}", f"/patients/{patient}/intake",
        f"/screenings/{screening}", f"/screenings/{screening}/consent",
        consent.headers["location"], f"/screenings/{screening}/plan",
        f"/patients/{patient}/sessions/new", f"/patients/{patient}/adverse-events/new",
        f"/patients/{patient}/photos", f"/patients/{patient}/outcomes", "/worklist",
    ]  # fmt: skip


@pytest.mark.parametrize("language", ["en", "vi"])
def test_no_page_of_a_visit_shows_a_python_repr(
    browser: TestClient, staff: ClinicStaff, services: Services, language: str
) -> None:
    """The consent screen's Clear button and every other label read as words."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    _switch(browser, language)
    pages = _visit_pages(browser, csrf)
    shown = {}
    for path in pages:
        response = browser.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        shown[path] = python_reprs(response.text)
    assert {path: found for path, found in shown.items() if found} == {}
    consent_screen = browser.get(pages[5]).text
    clear = consent_screen.split('id="signature-clear"', 1)[1].split("</button>", 1)[0]
    assert clear.endswith({"en": "Clear", "vi": "Xóa"}[language])


def test_the_admins_pages_show_no_python_repr(browser: TestClient, staff: ClinicStaff) -> None:
    """The users and audit pages too."""
    sign_in(browser, staff, Role.ADMIN)
    for path in ("/admin/users", "/admin/audit"):
        response = browser.get(path)
        assert response.status_code == 200
        assert python_reprs(response.text) == []


def test_the_check_finds_what_a_dict_read_by_attribute_prints() -> None:
    """The scan itself: the old Clear button label is caught, escaped or not."""
    label = "<built-in method clear of dict object at 0x7f3a2c1e4d40>"
    assert python_reprs(f"<button>{label}</button>")
    assert python_reprs("<button>&lt;built-in method clear of dict object at 0x7f3a&gt;</button>")
    assert python_reprs("<p>Clear</p>") == []
