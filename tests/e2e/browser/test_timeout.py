"""Nothing typed is lost, in Chromium: the warning two minutes before the idle timeout keeps
the session alive, and a form posted after the session ended is filled in again after
sign-in, on the page it was typed on, and not submitted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mesoscreen.domain.access import Role
from tests.e2e.browser.conftest import sign_in
from tests.e2e.browser.test_clinic_visit import _add_patient
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_the_warning_comes_two_minutes_before_the_timeout_and_keeps_the_session(
    page: Any, server: Any
) -> None:
    """At 13 minutes idle the warning shows; its button asks the server and hides it."""
    base, staff = server
    page.clock.install()
    sign_in(page, base, staff, Role.NURSE)
    warning = page.locator("#timeout-warning")
    page.clock.run_for("12:30")
    assert warning.is_hidden()
    page.clock.run_for("00:31")
    assert warning.is_visible()
    with page.expect_response(f"{base}/session/refresh") as answer:
        page.get_by_role("button", name="Stay signed in").click()
    assert answer.value.status == 200
    warning.wait_for(state="hidden")


def _end_session_elsewhere(page: Any, base: str) -> None:
    """End the browser's session on the server (as the idle timeout does) without telling the
    browser: sign out with a copy of its cookies from outside it."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    csrf = page.locator('form[action="/signout"] input[name="csrf"]').input_value()
    response = httpx.post(f"{base}/signout", data={"csrf": csrf}, cookies=cookies)
    assert response.status_code == 303


def _sign_in_again_to(page: Any, staff: Any, form_url: str) -> None:
    """Told the form was kept, sign in again and land on the form, filled in again."""
    page.locator("#form-kept").wait_for()
    page.get_by_label("Username").fill(staff.users[Role.NURSE].username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(form_url)
    page.locator("#form-restored").wait_for()


def test_a_form_sent_after_the_session_ended_is_filled_in_again_after_sign_in(
    page: Any, server: Any
) -> None:
    """The nurse's adverse-event report, sent too late, comes back filled in on its page."""
    base, staff = server
    sign_in(page, base, staff, Role.NURSE)
    _add_patient(page, "Lam", "female")
    page.get_by_role("link", name="Report an adverse event").click()
    form_url = page.url
    page.get_by_label("Complication").select_option("bruising")
    page.get_by_label("Description").fill("small bruise at point 12")
    page.get_by_label("Onset").fill("2026-11-25T08:40")
    page.get_by_label("Severity grade").select_option("2")
    _end_session_elsewhere(page, base)
    page.get_by_role("button", name="Save").click()
    _sign_in_again_to(page, staff, form_url)
    assert page.get_by_label("Description").input_value() == "small bruise at point 12"
    assert page.get_by_label("Complication").input_value() == "bruising"
    assert page.get_by_label("Severity grade").input_value() == "2"
    assert page.get_by_label("Onset").input_value() == "2026-11-25T08:40"
    assert page.url == form_url, "shown again, not submitted"


def test_a_photo_form_sent_too_late_comes_back_with_its_text_and_asks_for_the_file(
    page: Any, server: Any
) -> None:
    """The photo's details come back filled in; the file field, which no browser fills in,
    says to choose the file again."""
    base, staff = server
    sign_in(page, base, staff, Role.NURSE)
    _add_patient(page, "Anh", "female")
    page.get_by_role("link", name="Photos").click()
    form_url = page.url
    page.get_by_label("Photo file (JPEG or PNG)").set_input_files(
        {"name": "vertex.png", "mimeType": "image/png", "buffer": _PNG}
    )
    page.get_by_label("Note", exact=True).fill("vertex, before the first session")
    _end_session_elsewhere(page, base)
    page.get_by_role("button", name="Upload").click()
    _sign_in_again_to(page, staff, form_url)
    assert page.get_by_label("Note", exact=True).input_value() == "vertex, before the first session"
    again = page.locator("#photo + p.file-again")
    assert again.inner_text() == "Choose the file again: a browser never keeps a chosen file."
    assert page.get_by_label("Photo file (JPEG or PNG)").input_value() == ""


def test_in_vietnamese_on_a_tablet_the_photo_form_asks_for_the_file_in_vietnamese(
    page: Any, server: Any
) -> None:
    """The same late upload, the sign-in and the form shown in Vietnamese at a tablet's 820
    pixels: the note under the file field is in Vietnamese and fits the screen."""
    base, staff = server
    sign_in(page, base, staff, Role.NURSE)
    _add_patient(page, "Binh", "female")
    page.get_by_role("link", name="Photos").click()
    form_url = page.url
    page.locator("#photo").set_input_files(
        {"name": "vertex.png", "mimeType": "image/png", "buffer": _PNG}
    )
    page.locator('textarea[name="note"], input[name="note"]').fill("đỉnh đầu, trước buổi đầu")
    page.context.add_cookies([{"name": "mesoscreen_language", "value": "vi", "url": base}])
    page.set_viewport_size({"width": 820, "height": 1180})
    _end_session_elsewhere(page, base)
    page.locator('form:has(#photo) button[type="submit"]').click()
    page.locator("#form-kept").wait_for()
    page.locator("#username").fill(staff.users[Role.NURSE].username)
    page.locator("#password").fill(PASSWORD)
    page.locator('form:has(#password) button[type="submit"]').click()
    page.wait_for_url(form_url)
    again = page.locator("#photo + p.file-again")
    assert again.inner_text() == "Hãy chọn lại tệp: trình duyệt không giữ lại tệp đã chọn."
    assert page.get_by_label("Tệp ảnh (JPEG hoặc PNG)").input_value() == ""
    box = again.bounding_box()
    width = page.evaluate("document.documentElement.clientWidth")
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width


# A 1x1 PNG.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000000000200015e2a5b1c0000000049454e44ae426082"
)
