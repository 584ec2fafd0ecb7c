"""The patient header on every patient page, in words, at a cost that does not grow with the
patient's history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import event

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.planner.plan import PlanRequest
from mesoscreen.services.patients import PatientDetails
from tests.factories import ClinicStaff, give_consent, unique
from tests.intakes import intake
from tests.integration.web.conftest import TestClient, sign_in


def _allergic_patient(services: Services, staff: ClinicStaff) -> tuple[str, str]:
    """A patient allergic to lidocaine with a signed screening; (patient id, screening id)."""
    clinician = staff.principal(Role.CLINICIAN)
    details = PatientDetails(unique("Header"), "Lan", sex="male")
    patient = services.patients.register(clinician, staff.clinic.id, details)
    answers = intake("male", allergy_history="yes", allergens=["lidocaine"])
    screening = services.screenings.screen_intake(clinician, patient.id, answers)
    services.screenings.sign(clinician, screening.id, screening.version)
    return patient.id, screening.id


def _header(page: str) -> str:
    assert 'id="patient-header"' in page, "the page has no patient header"
    return page.split('id="patient-header"')[1].split("</section>")[0]


def test_every_patient_page_carries_the_header_with_alerts_consent_and_age(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Timeline, intake, screening, plan editor, photos, outcomes, session and adverse-event
    forms each show the allergy and the consent standing; the signing screen does not."""
    patient, screening = _allergic_patient(services, staff)
    sign_in(browser, staff, Role.CLINICIAN)
    under = f"/patients/{patient}"
    pages = [
        under,
        f"{under}/intake",
        f"/screenings/{screening}",
        f"{under}/photos",
        f"{under}/outcomes",
        f"{under}/sessions/new",
        f"{under}/adverse-events/new",
    ]
    for path in pages:
        response = browser.get(path)
        assert response.status_code == 200, (path, response.text)
        header = _header(response.text)
        assert "Allergies:</strong> lidocaine" in header, path
        assert "none yet" in header, path
    signing = browser.get(f"/screenings/{screening}/consent").text
    assert 'id="patient-header"' not in signing


def test_the_header_in_vietnamese_names_the_excluded_ingredient_as_vietnamese_writes_it(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Lidocaine is excluded: 'Lidocain' in Vietnamese, under a Vietnamese label."""
    patient, _ = _allergic_patient(services, staff)
    sign_in(browser, staff, Role.CLINICIAN)
    page = browser.get(f"/patients/{patient}").text
    token = page.split('action="/language"', 1)[1].split('name="csrf" value="')[1].split('"')[0]
    browser.post("/language", data={"language": "vi", "next": "/today", "csrf": token})
    header = _header(browser.get(f"/patients/{patient}").text)
    assert "Hoạt chất bị loại trừ:</strong>" in header
    assert "Lidocain" in header
    assert "Dị ứng:</strong> lidocaine" in header


def test_reception_sees_the_header_without_clinical_facts(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Name and age for the front desk; no allergies, consent or due date."""
    patient, _ = _allergic_patient(services, staff)
    sign_in(browser, staff, Role.RECEPTION)
    header = _header(browser.get(f"/patients/{patient}").text)
    assert "lidocaine" not in header
    assert 'id="header-consent"' not in header


@contextmanager
def _counted(services: Services) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(services.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(services.engine, "before_cursor_execute", count)


def test_the_header_reads_a_fixed_set_of_queries_however_long_the_history(
    staff: ClinicStaff, services: Services
) -> None:
    """One plan or six: the header's statements are the same in number (no query per record)."""
    clinician = staff.principal(Role.CLINICIAN)
    other = services.patients.register(clinician, staff.clinic.id, PatientDetails("Long", "A"))
    give_consent(services.patients, services.screenings, services.consents, staff, other.id)
    signed = services.screenings.list_for_patient(clinician, other.id).items
    plan = PlanRequest((), "norwood-1", 1.0, "dutasteride_0_01", date(2026, 12, 1))
    services.plans.create(clinician, signed[-1].id, plan)
    with _counted(services) as short:
        services.patient_headers.for_patient(clinician, other.id)
    for _ in range(5):
        services.plans.create(clinician, signed[-1].id, plan)
    with _counted(services) as long:
        services.patient_headers.for_patient(clinician, other.id)
    assert len(long) == len(short)
