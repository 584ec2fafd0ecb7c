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
    assert not page.get_by_role(
        "group", name="Are you pregnant, or could you be pregnant?"
    ).is_visible()
    _answer_all_no(page)
    page.get_by_role("button", name="Screen").click()
    assert "ELIGIBLE" in page.locator("#outcome").inner_text()


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
