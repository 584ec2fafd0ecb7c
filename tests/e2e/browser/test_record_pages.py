"""Adverse-event and session pages in Chromium: an event reported from the patient's page is
opened from the timeline, signed, resolved off the worklist; a duplicate is voided."""

from __future__ import annotations

from typing import Any

import pytest

from mesoscreen.domain.access import Role
from tests.e2e.browser.conftest import sign_in
from tests.e2e.browser.test_clinic_visit import _add_patient

pytestmark = pytest.mark.browser


def _report(page: Any) -> None:
    page.get_by_role("link", name="Report an adverse event").click()
    page.get_by_label("Complication").select_option("bruising")
    page.get_by_label("Onset").fill("2026-11-24T09:00")
    page.get_by_label("Severity grade").select_option("1")
    page.get_by_label("Follow-up date").fill("2026-11-25")
    page.get_by_role("button", name="Save").click()
    page.locator("#event-details").wait_for()


def test_an_adverse_event_is_signed_resolved_and_its_duplicate_voided(
    page: Any, server: Any
) -> None:
    """The follow-up is on the worklist until the event is resolved with its outcome and date;
    a second report of it is voided with a reason and struck through on the timeline."""
    base, staff = server
    sign_in(page, base, staff, Role.CLINICIAN)
    _add_patient(page, "Quach", "female")
    patient_url = page.url
    _report(page)
    page.get_by_role("button", name="Sign", exact=True).click()
    assert "Signed" in page.locator("#record-status").inner_text()
    page.goto(f"{base}/worklist")
    assert "Quach" in page.locator("main").inner_text()

    page.goto(patient_url)
    page.locator("#timeline").get_by_role("link", name="Bruising").click()
    page.locator("#resolve-form").get_by_label("Outcome").select_option("resolved")
    page.get_by_label("Resolved on").fill("2026-11-25")
    page.get_by_role("button", name="Resolve").click()
    assert "25 Nov 2026" in page.locator("#resolved-on").inner_text()
    page.goto(f"{base}/worklist")
    assert "Quach" not in page.locator("main").inner_text()

    page.goto(patient_url)
    _report(page)
    page.locator("details.void summary").click()
    page.get_by_label("Why is it void?").fill("reported twice")
    page.get_by_role("button", name="Void this record").click()
    assert "reported twice" in page.locator("#void-notice").inner_text()
    page.get_by_role("link", name="Timeline").click()
    assert page.locator("#timeline .voided").count() == 1
    page.goto(f"{base}/worklist")
    assert "Quach" not in page.locator("main").inner_text()
