"""The pages with a real session: sign-in, CSRF, roles, languages, and what the result shows."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import date

import pytest

from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from mesoscreen.entrypoints.web.i18n import catalogues
from mesoscreen.entrypoints.web.routes import intake_from_form
from mesoscreen.knowledge import default_knowledge_base
from tests.factories import PASSWORD, ClinicStaff, records_settings, seed_clinic
from tests.fakes import FrozenClock
from tests.intakes import intake

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build_services(records_settings(database_url), FrozenClock())
    yield built
    built.close()


@pytest.fixture
def staff(services: Services) -> ClinicStaff:
    return seed_clinic(services.accounts)


@pytest.fixture
def browser(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services=services)) as client:
        yield client


def sign_in(client: TestClient, staff: ClinicStaff, role: Role) -> str:
    """Sign in through the form; the CSRF token the pages will carry."""
    credentials = {"username": staff.users[role].username, "password": PASSWORD}
    response = client.post("/signin", data=credentials, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client.cookies["mesoscreen_csrf"]


def new_patient(client: TestClient, csrf: str, family: str = "Nguyen") -> str:
    response = client.post("/patients/new", data={"csrf": csrf, "family_name": family,
                           "given_name": "Lan", "birth_date": "1990-04-12", "sex": "female"},
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def test_pages_need_a_session(browser: TestClient) -> None:
    """Without one, every page sends the browser to the sign-in form."""
    response = browser.get("/patients", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    browser: TestClient, staff: ClinicStaff
) -> None:
    response = browser.post("/signin", data={"username": staff.users[Role.NURSE].username,
                                             "password": "wrong"})  # fmt: skip
    assert response.status_code == 401
    assert catalogues()[next(iter(catalogues()))]["bad_signin"] in response.text


def test_a_form_post_without_the_sessions_csrf_token_changes_nothing(
    browser: TestClient, staff: ClinicStaff
) -> None:
    sign_in(browser, staff, Role.CLINICIAN)
    response = browser.post("/patients/new", data={"csrf": "forged", "family_name": "X",
                                                   "given_name": "Y"})  # fmt: skip
    assert response.status_code == 403
    assert "X Y" not in browser.get("/patients").text


def test_a_deferred_screening_shows_its_date_reasons_and_sources(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Recently weaned: DEFERRED, the earliest date, the quoted passage, the alternatives."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    form = intake("female", breastfeeding="no", recently_weaned="yes", weaned_on="2026-10-15")
    response = browser.post(f"/patients/{patient}/intake", data={"csrf": csrf, **form})
    assert response.status_code == 200
    page = response.text
    assert "DEFERRED" in page
    assert "15 Jan 2027" in page
    assert "It is advisable to wait at least 3-6 months after weaning" in page
    assert "banner-deferred" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    handout = browser.get(str(response.url) + "/handout")
    assert handout.status_code == 200
    assert "@media print" in browser.get("/static/app.css").text


def test_answers_to_questions_that_do_not_apply_are_ignored_by_the_server() -> None:
    """A man's stray pregnancy answer never reaches the engine."""
    answers = intake_from_form(
        {"sex": "male", "pregnant": "yes", "allergy_history": "no", "allergens": "lidocaine"},
        default_knowledge_base(),
        date(2026, 11, 25),
    )
    assert "pregnant" not in answers
    assert "allergens" not in answers
    assert answers["sex"] == "male"


def test_reception_sees_patients_but_not_the_clinical_pages(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The front desk can register and find patients; the intake and results are refused."""
    clinician = TestClient(browser.app)
    csrf = sign_in(clinician, staff, Role.CLINICIAN)
    patient = new_patient(clinician, csrf, "Tran")
    form = {"csrf": csrf, **intake("male")}
    screened = clinician.post(f"/patients/{patient}/intake", data=form, follow_redirects=False)
    screening = screened.headers["location"]
    sign_in(browser, staff, Role.RECEPTION)
    assert "Tran" in browser.get("/patients?q=Tran").text
    assert browser.get(f"/patients/{patient}/intake").status_code == 403
    assert browser.get(screening).status_code == 403


def test_the_language_switch_translates_pages_and_dates(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Vietnamese words, the Vietnamese banner and dd/mm/yyyy dates."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    browser.post("/language", data={"language": "vi", "next": "/patients"})
    form = intake("female", breastfeeding="no", recently_weaned="yes", weaned_on="2026-10-15")
    page = browser.post(f"/patients/{patient}/intake", data={"csrf": csrf, **form}).text
    assert "HOÃN" in page
    assert "15/01/2027" in page
    assert browser.get("/patients").text.count("Bệnh nhân") >= 1


def test_both_catalogues_have_the_same_keys() -> None:
    """A missing translation fails at load, not in front of a patient."""
    english, vietnamese = catalogues().values()
    assert english.keys() == vietnamese.keys()


def test_health_answers_without_a_session_or_the_database(browser: TestClient) -> None:
    """The liveness endpoint (also the load benchmark's bare endpoint)."""
    response = browser.get("/health")
    assert response.json() == {"status": "ok"}
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_required_action_is_recorded_as_done_from_the_result_page(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """An allergy test recorded as negative from the form is stored with the screening."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    form = intake("female", allergy_history="yes", allergens="lidocaine")
    result = browser.post(f"/patients/{patient}/intake", data={"csrf": csrf, **form})
    assert "Record as done" in result.text
    screening = str(result.url).rsplit("/", 1)[1]
    done = browser.post(f"/screenings/{screening}/actions", follow_redirects=False, data={
        "csrf": csrf, "action_id": "allergy_assessment_and_test", "result": "negative",
        "performed_on": "2026-11-24"})  # fmt: skip
    assert done.status_code == 303, done.text
    principal = services.authentication.authenticate(
        browser.cookies["mesoscreen_session"], None
    ).principal
    (completion,) = services.actions.list_for_screening(principal, screening).items
    assert completion.action_id == "allergy_assessment_and_test"


def test_admin_pages_list_users_and_the_audit_trail_for_admins_only(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """An admin sees the users and an intact chain; a clinician is refused."""
    sign_in(browser, staff, Role.ADMIN)
    users = browser.get("/admin/users")
    assert users.status_code == 200
    assert staff.users[Role.NURSE].username in users.text
    audit = browser.get("/admin/audit")
    assert "The audit chain is intact." in audit.text
    assert audit.text.count("<tr>") >= 2  # a header and at least one entry (a shared database
    # holds other tests' entries too, so which ones are listed first is not fixed)
    browser.cookies.clear()
    sign_in(browser, staff, Role.CLINICIAN)
    assert browser.get("/admin/users").status_code == 403


def test_the_worklist_page_shows_overdue_and_upcoming_for_clinical_roles(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """A deferral ending in the coming week appears; reception is refused the page."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Hoang")
    # Weaned 2026-08-28: the three-month deferral ends 2026-11-28, within a week of 11-25.
    form = intake("female", breastfeeding="no", recently_weaned="yes", weaned_on="2026-08-28")
    browser.post(f"/patients/{patient}/intake", data={"csrf": csrf, **form})
    page = browser.get("/worklist")
    assert page.status_code == 200
    upcoming = page.text.split('id="upcoming"', 1)[1]
    assert "Hoang" in upcoming
    assert "Screen again" in upcoming
    browser.cookies.clear()
    sign_in(browser, staff, Role.RECEPTION)
    assert browser.get("/worklist").status_code == 403
