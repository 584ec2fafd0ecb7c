"""A clinic's day in Chromium: sign in, add patients, fill intakes, read the decisions, plan,
sign consent by drawing, record a session, report a bruise; the front desk refused a clinical
page; Vietnamese, print."""

from __future__ import annotations

from typing import Any

import pytest

from mesoscreen.domain.access import Role
from tests.e2e.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _add_patient(page: Any, family: str, sex: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name="New patient").click()
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Given name").fill("Test")
    page.get_by_label("Date of birth").fill("1990-04-12")
    page.get_by_label(sex.capitalize(), exact=True).check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name=f"{family} Test").wait_for()


def _answer(page: Any, question: str, answer: str) -> None:
    page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def _answer_all_no(page: Any) -> None:
    """'No' to every yes/no question still shown and not yet answered."""
    for group in page.locator("fieldset:visible").all():
        option = group.get_by_label("No", exact=True)
        if option.count() and not group.locator("input:checked").count():
            option.check()


def _sign_consent_by_drawing(page: Any) -> None:
    """From the session form's warning: the patient draws a signature, the clinician
    countersigns, and the printable consent shows the drawing."""
    page.locator("#consent-needed a").click()
    page.wait_for_load_state("load")  # the signature script has run
    pad = page.locator("#signature-pad")
    pad.wait_for(state="visible")
    assert "Skin necrosis" in page.locator("#consent-risks").inner_text()
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 30, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 160, box["y"] + 110, steps=12)
    page.mouse.move(box["x"] + 320, box["y"] + 40, steps=12)
    page.mouse.up()
    assert page.locator("#method-drawn").is_checked()
    page.locator("#confirmed").check()
    page.get_by_role("button", name="Patient signs").click()
    page.wait_for_load_state("load")
    assert "awaiting" in page.locator("#consent-status").inner_text()
    page.get_by_role("button", name="Countersign").click()
    page.wait_for_load_state("load")
    assert page.locator("#consent-status").inner_text().strip() == "Signed and countersigned"
    drawn = page.locator("img.signature")
    assert drawn.evaluate("img => img.complete && img.naturalWidth") == 600


def test_a_whole_visit_deferred_then_eligible_planned_treated_and_a_bruise(
    page: Any, server: Any
) -> None:
    """Recently weaned: deferred to 15 Apr 2027; a man with no risk: eligible, planned, consent
    drawn and countersigned, treated."""
    base, staff = server
    sign_in(page, base, staff, Role.CLINICIAN)
    _add_patient(page, "Pham", "female")
    page.get_by_role("link", name="Pre-treatment questions").click()
    _answer(page, "Are you breastfeeding?", "No")
    weaned = "Did you stop breastfeeding within the last 6 months?"
    page.get_by_role("group", name=weaned).wait_for(state="visible")
    _answer(page, weaned, "Yes")
    page.get_by_label("On what date did breastfeeding end?").fill("2026-10-15")
    _answer_all_no(page)
    page.get_by_role("button", name="Screen").click()
    banner = page.locator("#outcome")
    assert "DEFERRED" in banner.inner_text()
    assert page.locator("#earliest-date").inner_text().strip() == "15 Apr 2027"
    assert "It is advisable to wait" in page.content()

    _add_patient(page, "Le", "male")
    page.get_by_role("link", name="Pre-treatment questions").click()
    pregnancy = page.get_by_role("group", name="Are you pregnant, or could you be pregnant?")
    pregnancy.wait_for(state="hidden")
    _answer_all_no(page)
    page.get_by_role("button", name="Screen").click()
    assert "ELIGIBLE" in page.locator("#outcome").inner_text()

    page.get_by_role("button", name="Sign this screening").click()
    page.get_by_role("link", name="Plan treatment").click()
    page.get_by_label("Hair-loss stage").select_option("norwood-1")
    page.get_by_label("First session").fill("2026-12-01")
    page.get_by_role("button", name="Preview").click()
    page.locator(".map svg").wait_for()
    assert int(page.locator("#point-count").inner_text().replace(",", "")) > 20
    assert "1 Dec 2026" in page.locator("#session-dates").inner_text()
    page.get_by_role("button", name="Save plan").click()
    page.get_by_role("button", name="Sign this plan").click()
    assert page.locator("#plan-status").inner_text() == "signed"
    page.locator(".map svg").wait_for()
    plan_url = page.url

    page.get_by_role("link", name="Record a treatment session").click()
    assert "Consent needed" in page.locator("#consent-needed").inner_text()
    _sign_consent_by_drawing(page)
    page.goto(plan_url)
    page.get_by_role("link", name="Record a treatment session").click()
    assert page.locator("#consent-needed").count() == 0
    assert page.get_by_label("Points injected").input_value() != ""
    page.get_by_label("Date and time").fill("2026-11-25T08:30")
    page.get_by_label("Lot number").fill("LOT-42")
    page.get_by_label("Expiry date").fill("2027-06-30")
    page.get_by_role("button", name="Save").click()
    # The session's own page, then back to the timeline from it.
    assert "LOT-42" in page.locator("#session-details").inner_text()
    page.get_by_role("link", name="Timeline").click()
    timeline = page.locator("#timeline")
    assert "LOT-42" in timeline.inner_text()
    assert "25 Nov 2026 08:30" in timeline.inner_text()

    page.get_by_role("link", name="Report an adverse event").click()
    assert "EMERGENCY" in page.locator("#emergency-anaphylactic_shock").inner_text()
    page.get_by_label("Complication").select_option("bruising")
    page.get_by_label("Onset").fill("2026-11-25T09:00")
    page.get_by_label("Severity grade").select_option("1")
    page.get_by_role("button", name="Save").click()
    assert "Bruising" in page.locator("#event-details").inner_text()
    page.get_by_role("link", name="Timeline").click()
    assert "Bruising" in page.locator("#timeline").inner_text()


def test_an_answer_to_a_question_that_stops_applying_is_kept_shown_and_screened(
    page: Any, server: Any
) -> None:
    """'Pregnant: yes', then the sex changed to male: the answer stays on the form with a note
    and is sent, and the result is the API's (deferred, contradiction), never eligible."""
    base, staff = server
    sign_in(page, base, staff, Role.CLINICIAN)
    _add_patient(page, "Vu", "female")
    page.get_by_role("link", name="Pre-treatment questions").click()
    pregnancy = page.get_by_role("group", name="Are you pregnant, or could you be pregnant?")
    _answer(page, "Are you pregnant, or could you be pregnant?", "Yes")
    _answer(page, "Sex", "Male")
    question = page.locator("#q-pregnant")
    assert question.is_visible()
    assert "does not apply" in question.locator(".not-applicable-note").inner_text()
    assert pregnancy.get_by_label("Yes", exact=True).is_enabled()
    breastfeeding = page.locator("#q-breastfeeding")
    assert breastfeeding.is_hidden()  # not answered, so it is hidden as before
    _answer_all_no(page)
    page.get_by_role("button", name="Screen").click()
    assert "DEFERRED" in page.locator("#outcome").inner_text()
    assert "ELIGIBLE" not in page.locator("#outcome").inner_text()
    reasons = page.locator(".reason").all_inner_texts()
    assert len(reasons) == 2  # the contradiction and the pregnancy


def test_a_man_is_not_asked_when_breastfeeding_ended(page: Any, server: Any) -> None:
    """The follow-up of a question that does not apply does not apply either, as the engine
    decides; for a woman it shows once she says she stopped breastfeeding recently."""
    base, staff = server
    sign_in(page, base, staff, Role.CLINICIAN)
    _add_patient(page, "Ho", "male")
    page.get_by_role("link", name="Pre-treatment questions").click()
    _answer(page, "Sex", "Male")
    for question in ("breastfeeding", "recently_weaned", "weaned_on"):
        assert page.locator(f"#q-{question}").is_hidden(), question
    _answer(page, "Sex", "Female")
    _answer(page, "Are you breastfeeding?", "No")
    assert page.locator("#q-weaned_on").is_visible()  # not known yet: asked
    _answer(page, "Did you stop breastfeeding within the last 6 months?", "No")
    assert page.locator("#q-weaned_on").is_hidden()
    _answer(page, "Did you stop breastfeeding within the last 6 months?", "Yes")
    assert page.locator("#q-weaned_on").is_visible()
    _answer(page, "Sex", "Male")
    # Answered follow-ups stay shown with the note; the unanswered date goes away.
    assert page.locator("#q-weaned_on").is_hidden()


def test_reception_is_refused_a_clinical_page(page: Any, server: Any) -> None:
    """The front desk finds the patient but gets 403 on the intake."""
    base, staff = server
    sign_in(page, base, staff, Role.CLINICIAN)
    _add_patient(page, "Vo", "female")
    intake_url = page.get_by_role("link", name="Pre-treatment questions").get_attribute("href")
    page.context.clear_cookies()
    sign_in(page, base, staff, Role.RECEPTION)
    page.goto(f"{base}/patients")
    page.get_by_label("Search by name").fill("Vo")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("link", name="Vo").count() >= 1
    response = page.goto(f"{base}{intake_url}")
    assert response.status == 403
    assert "Your role does not allow this page." in page.content()


def test_the_language_list_switches_to_vietnamese_and_the_handout_prints_without_chrome(
    page: Any, server: Any
) -> None:
    """Choosing Tiếng Việt translates the page at once (script); print hides the header."""
    base, staff = server
    sign_in(page, base, staff, Role.NURSE)
    _add_patient(page, "Dang", "male")
    page.get_by_role("link", name="Pre-treatment questions").click()
    _answer_all_no(page)
    page.get_by_role("button", name="Screen").click()
    # The language list submits itself once the result page's script has run: wait for it.
    page.locator("#outcome").wait_for()
    page.wait_for_load_state("load")
    page.get_by_label("Language").select_option("vi")
    page.wait_for_selector("html[lang=vi]", state="attached")
    assert "ĐỦ ĐIỀU KIỆN" in page.locator("#outcome").inner_text()
    page.get_by_role("link", name="Tờ thông tin cho bệnh nhân").click()
    page.wait_for_load_state("load")
    page.emulate_media(media="print")
    assert not page.locator("header").is_visible()
    assert page.locator("#outcome").is_visible()
    page.emulate_media(media="screen")
    page.get_by_label("Ngôn ngữ").select_option("en")
    page.wait_for_selector("html[lang=en]", state="attached")
    assert "Patient handout" in page.title()


def test_sign_in_and_search_work_from_the_keyboard_alone(page: Any, server: Any) -> None:
    """The sign-in form starts focused; Tab moves on; Enter submits; a skip link comes first."""
    base, staff = server
    page.goto(f"{base}/signin")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type(staff.users[Role.NURSE].username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/today")
    page.goto(f"{base}/patients")
    page.get_by_label("Search by name").focus()
    page.keyboard.type("nobody-at-all")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/patients?q=nobody-at-all")
    assert "Patients found: 0" in page.locator("#found").inner_text()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
