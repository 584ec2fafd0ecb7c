"""The Today page: the signed-in start page, in words, for each role."""

from __future__ import annotations

from datetime import date

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.planner.plan import PlanRequest
from mesoscreen.services.patients import PatientDetails
from tests.factories import PASSWORD, ClinicStaff, unique
from tests.intakes import intake
from tests.integration.web.conftest import TestClient, csrf_in, sign_in


def _due_today(services: Services, staff: ClinicStaff) -> str:
    """A patient whose first planned session is today (the frozen clock's 25 Nov 2026) and an
    unsigned screening of another patient; the first patient's family name."""
    clinician = staff.principal(Role.CLINICIAN)
    family = unique("Due")
    patient = services.patients.register(clinician, staff.clinic.id, PatientDetails(family, "A"))
    screening = services.screenings.screen_intake(clinician, patient.id, intake("male"))
    services.screenings.sign(clinician, screening.id, screening.version)
    request = PlanRequest((), "norwood-1", 1.0, "dutasteride_0_01", date(2026, 11, 25))
    services.plans.create(clinician, screening.id, request)
    drafted = services.patients.register(clinician, staff.clinic.id,
                                         PatientDetails(unique("Drafted"), "B"))  # fmt: skip
    services.screenings.screen_intake(clinician, drafted.id, intake("male"))
    return family


def test_signing_in_lands_on_today_with_the_sessions_due_and_drafts(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """A clinician signs in to the Today page: today's session (linked to its plan) and the
    unsigned screening, under headings in words."""
    family = _due_today(services, staff)
    token = csrf_in(browser.get("/signin").text)
    signed_in = browser.post(
        "/signin",
        follow_redirects=False,
        data={
            "username": staff.users[Role.CLINICIAN].username,
            "password": PASSWORD,
            "csrf": token,
        },
    )
    assert signed_in.headers["location"] == "/today"
    page = browser.get("/today").text
    sessions = page.split('id="day-sessions"')[1].split("</section>")[0]
    assert family in sessions
    assert "/plans/" in sessions
    drafts = page.split('id="day-drafts"')[1].split("</section>")[0]
    assert "/screenings/" in drafts
    assert "Screening" in drafts
    assert "Deferrals ending within 14 days" in page


def test_the_today_page_in_vietnamese(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Headings and the date in Vietnamese."""
    _due_today(services, staff)
    sign_in(browser, staff, Role.CLINICIAN)
    form_token = csrf_in(browser.get("/today").text.split('action="/language"', 1)[1])
    browser.post("/language", data={"language": "vi", "next": "/today", "csrf": form_token})
    page = browser.get("/today").text
    assert "Buổi điều trị đến hạn hôm nay hoặc quá hạn" in page
    assert "25/11/2026" in page


def test_reception_sees_today_without_clinical_lists_or_links(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The front desk sees who is due, but no plan link, drafts or adverse events."""
    family = _due_today(services, staff)
    sign_in(browser, staff, Role.RECEPTION)
    page = browser.get("/today").text
    assert family in page
    assert "/plans/" not in page
    assert 'id="day-drafts"' not in page
    assert 'id="day-follow-ups"' not in page
