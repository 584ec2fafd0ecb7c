"""A clinic's day in Chromium: sign in, add patients, fill intakes, read the decisions."""

from __future__ import annotations

from typing import Any

import pytest

from mesoscreen.domain.access import Role
from tests.factories import PASSWORD, ClinicStaff

pytestmark = pytest.mark.browser


def _sign_in(page: Any, base: str, staff: ClinicStaff, role: Role) -> None:
    page.goto(f"{base}/signin")
    page.get_by_label("Username").fill(staff.users[role].username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/patients")


def _add_patient(page: Any, base: str, family: str, sex: str) -> None:
    page.get_by_role("link", name="New patient").first.click()
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Given name").fill("Test")
    page.get_by_label("Date of birth").fill("1990-04-12")
    page.get_by_label(sex.capitalize(), exact=True).check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name=f"{family} Test").wait_for()


def _answer(page: Any, question: str, answer: str) -> None:
    page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def _answer_all_no(page: Any) -> None:
    """'No' to every yes/no question still shown."""
    for group in page.locator("fieldset:visible").all():
        option = group.get_by_label("No", exact=True)
        if option.count() and not group.locator("input:checked").count():
            option.check()


def test_a_visit_deferred_then_an_eligible_patient(page: Any, server: Any) -> None:
    """Recently weaned: deferred with its date; a man with no risk: eligible."""
    base, staff = server
    _sign_in(page, base, staff, Role.CLINICIAN)
    _add_patient(page, base, "Pham", "female")
    page.get_by_role("link", name="Pre-treatment questions").click()
    _answer(page, "Are you breastfeeding?", "No")
    recently = page.get_by_role(
        "group", name="Did you stop breastfeeding within the last 6 months?"
    )
    recently.wait_for(state="visible")
    _answer(page, "Did you stop breastfeeding within the last 6 months?", "Yes")
    page.get_by_label("On what date did breastfeeding end?").fill("2026-10-15")
    _answer_all_no(page)
    page.get_by_role("button", name="Screen").click()
    banner = page.locator("#outcome")
    banner.wait_for()
    assert "DEFERRED" in banner.inner_text()
    assert page.locator("#earliest-date").inner_text().strip()
    assert "It is advisable to wait" in page.content()

    _add_patient(page, base, "Le", "male")
    page.get_by_role("link", name="Pre-treatment questions").click()
    page.get_by_role("group", name="Are you pregnant, or could you be pregnant?").wait_for(
        state="hidden"
    )
    _answer_all_no(page)
    page.get_by_role("button", name="Screen").click()
    assert "ELIGIBLE" in page.locator("#outcome").inner_text()

    # Sign, plan with the injection map, record the session, report a bruise.
    page.get_by_role("button", name="Sign this screening").click()
    page.get_by_role("link", name="Plan treatment").click()
    page.get_by_label("Hair-loss stage").select_option("norwood-1")
    page.get_by_label("First session").fill("2026-12-01")
    page.get_by_role("button", name="Preview").click()
    page.locator("svg#map, .map svg").first.wait_for()
    assert int(page.locator("#point-count").inner_text()) > 20
    assert "01 Dec 2026".lstrip("0") in page.content() or "1 Dec 2026" in page.content()
    page.get_by_role("button", name="Save plan").click()
    page.get_by_role("heading", name="Plans").wait_for()

    page.get_by_role("link", name="Record a treatment session").click()
    page.get_by_label("Date and time").fill("2026-11-24T08:30")
    page.get_by_label("Product").fill("Dutasteride 0.01%")
    page.get_by_label("Lot number").fill("LOT-42")
    page.get_by_label("Expiry date").fill("2027-06-30")
    page.get_by_label("Points injected").fill("55")
    page.get_by_label("Volume per point (mL)").fill("0.01")
    page.get_by_label("Depth (mm)").fill("1.5")
    page.get_by_role("button", name="Save").click()
    assert "LOT-42" in page.locator("#sessions").inner_text()

    page.get_by_role("link", name="Report an adverse event").click()
    assert "Anaphylaxis is an emergency" in page.locator("#anaphylaxis").inner_text()
    page.get_by_label("Complication").select_option("bruising")
    page.get_by_label("Onset").fill("2026-11-24T09:00")
    page.get_by_label("Severity grade (1 mild to 5 fatal)").fill("1")
    page.get_by_role("button", name="Save").click()
    assert "bruising" in page.locator("#events").inner_text()


def test_reception_is_refused_a_clinical_page(page: Any, server: Any) -> None:
    """The front desk finds the patient list but not the intake."""
    base, staff = server
    _sign_in(page, base, staff, Role.CLINICIAN)
    _add_patient(page, base, "Vo", "female")
    intake_url = page.get_by_role("link", name="Pre-treatment questions").get_attribute("href")
    page.context.clear_cookies()
    _sign_in(page, base, staff, Role.RECEPTION)
    response = page.goto(f"{base}{intake_url}")
    assert response.status == 403
    assert "does not allow" in page.content()
