"""The intake, the result with its sources, the handout, signing and recording actions done."""

from __future__ import annotations

from datetime import date

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.web.intake_form import condition_json, intake_from_form
from mesoscreen.knowledge import default_knowledge_base
from tests.factories import ClinicStaff
from tests.intakes import intake
from tests.integration.web.conftest import TestClient, new_patient, screen, sign_in


def test_the_intake_form_asks_every_question_of_the_knowledge_base(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """One field per question, yes / no / not known, dates as date fields, conditions attached."""
    csrf = sign_in(browser, staff, Role.NURSE)
    page = browser.get(f"/patients/{new_patient(browser, csrf)}/intake").text
    kb = default_knowledge_base()
    for question in kb.questions:
        assert f'name="{question.id}"' in page, question.id
        if question.answer_type.value == "date":
            assert f'name="{question.id}" type="date"' in page
    assert page.count('value="unknown"') >= 10
    assert "data-applies=" in page
    assert 'id="q-pregnant" data-applies=' in page


def test_a_deferred_screening_shows_its_date_reasons_sources_and_alternatives(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Recently weaned: DEFERRED, the earliest date, the quoted passage, safer measures."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    answers = intake("female", breastfeeding="no", recently_weaned="yes", weaned_on="2026-10-15")
    response = browser.get(f"/screenings/{screen(browser, csrf, patient, answers)}")
    page = response.text
    assert "DEFERRED: not yet" in page
    assert 'id="earliest-date">15 Apr 2027<' in page
    assert "It is advisable to wait at least 3-6 months after weaning" in page
    assert "banner-deferred" in page
    assert 'id="alternatives"' in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_an_allergy_excludes_the_named_ingredient_and_requires_a_test(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """The excluded ingredient and the required action are listed on the result."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    answers = intake("female", allergy_history="yes", allergens="lidocaine")
    page = browser.get(f"/screenings/{screen(browser, csrf, patient, answers)}").text
    assert 'id="excluded"' in page
    assert "Lidocaine" in page or "lidocaine" in page
    assert "Record as done" in page


def test_an_unanswered_question_makes_the_screening_incomplete_with_what_to_ask(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Missing data never means clear: the result lists the questions still to ask."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    answers = {k: v for k, v in intake("female").items() if k != "anticoagulant_use"}
    page = browser.get(f"/screenings/{screen(browser, csrf, patient, answers)}").text
    assert "ELIGIBLE" not in page
    assert 'id="missing"' in page


def test_a_mans_pregnancy_answer_is_used_and_reported_as_on_the_api(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Posted by a script-less browser, answers to questions that do not apply reach the engine,
    which reports the contradiction and reads them the stricter way (issue 17: the page said
    eligible while the API said deferred)."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Le", "male")
    posted = intake("male", pregnant="yes", breastfeeding="yes", recently_weaned="yes")
    screening_id = screen(browser, csrf, patient, posted)
    screening, _ = services.screenings.get(staff.principal(Role.CLINICIAN), screening_id)
    assert screening.outcome == "deferred"
    assert screening.answers["pregnant"] == "yes"
    rules = {f["rule"] for f in screening.decision["findings"]}
    assert "answer_where_not_asked_pregnant" in rules
    assert "ELIGIBLE" not in browser.get(f"/screenings/{screening_id}").text


def test_a_harmless_answer_to_a_question_that_does_not_apply_is_listed_on_the_page(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Every answer is used or reported: a man's 'pregnant: no' is listed, nothing else."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Le", "male")
    screening_id = screen(browser, csrf, patient, intake("male", pregnant="no"))
    page = browser.get(f"/screenings/{screening_id}").text
    assert 'id="not-applicable"' in page
    assert "ELIGIBLE" in page


def test_every_posted_answer_to_a_question_is_kept() -> None:
    """The form keeps a man's 'recently weaned' (the engine judges it); fields that are no
    question are never answers."""
    kb = default_knowledge_base()
    form = {"sex": "male", "recently_weaned": "yes", "pregnant": "yes", "x": "y"}
    assert intake_from_form(form, kb) == {"sex": "male", "recently_weaned": "yes",
                                          "pregnant": "yes"}  # fmt: skip


def test_every_condition_the_script_gets_agrees_with_the_engine_on_each_answer() -> None:
    """For each single-fact condition: hidden by the script exactly when the engine says FALSE."""
    kb = default_knowledge_base()
    for question in kb.questions:
        if question.applies_when is None:
            continue
        rule = condition_json(question.applies_when)
        if rule is None or "fact" not in rule:
            continue
        for answer in ("yes", "no", "unknown", "female", "male", "other"):
            truth = question.applies_when.evaluate({rule["fact"]: answer}, date(2026, 11, 25))
            script_hides = answer != "unknown" and answer not in rule["is"]
            assert script_hides == (truth.name == "FALSE"), (question.id, answer)


def test_the_handout_is_plain_language_and_printable(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Patient words, not the clinician's; the print style sheet hides the page's chrome."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    answers = intake("female", breastfeeding="no", recently_weaned="yes", weaned_on="2026-10-15")
    screening = screen(browser, csrf, patient, answers)
    handout = browser.get(f"/screenings/{screening}/handout").text
    assert "This treatment has to wait for now." in handout
    assert "15 Apr 2027" in handout
    assert "It is advisable to wait" not in handout
    css = browser.get("/static/app.css").text
    assert "@media print" in css


def test_signing_then_recording_an_allergy_test_done_opens_the_plan(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """A negative allergy test recorded from the result page is stored and shown."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    answers = intake("female", allergy_history="yes", allergens="lidocaine")
    screening = screen(browser, csrf, patient, answers)
    page = browser.get(f"/screenings/{screening}").text
    version = page.split('name="version" value="')[1].split('"')[0]
    signed = browser.post(f"/screenings/{screening}/sign", data={"csrf": csrf, "version": version},
                          follow_redirects=False)  # fmt: skip
    assert signed.status_code == 303
    again = browser.post(f"/screenings/{screening}/sign", data={"csrf": csrf, "version": version})
    assert again.status_code == 409
    done = browser.post(f"/screenings/{screening}/actions", follow_redirects=False, data={
        "csrf": csrf, "action_id": "allergy_assessment_and_test", "result": "negative",
        "performed_on": "2026-11-24"})  # fmt: skip
    assert done.status_code == 303, done.text
    (completion,) = services.actions.list_for_screening(
        staff.principal(Role.CLINICIAN), screening
    ).items
    assert completion.action_id == "allergy_assessment_and_test"
    page = browser.get(f"/screenings/{screening}").text
    assert 'id="done-allergy_assessment_and_test"' in page
    assert "Negative (no reaction), 24 Nov 2026" in page


def test_a_required_action_in_the_future_or_not_required_is_refused(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """400 with a message naming the field; nothing stored."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    screening = screen(browser, csrf, patient, intake("female", allergy_history="yes",
                                                      allergens="lidocaine"))  # fmt: skip
    future = browser.post(f"/screenings/{screening}/actions", data={
        "csrf": csrf, "action_id": "allergy_assessment_and_test", "result": "negative",
        "performed_on": "2026-12-24"})  # fmt: skip
    assert future.status_code == 400
    assert "Date done: cannot be in the future (you entered 24 Dec 2026)." in future.text
    unknown = browser.post(f"/screenings/{screening}/actions", data={
        "csrf": csrf, "action_id": "made_up", "result": "done",
        "performed_on": "2026-11-24"})  # fmt: skip
    assert unknown.status_code == 400


def test_another_clinics_screening_is_not_found(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """A user of another clinic gets 404, so the record's existence does not leak."""
    from tests.factories import seed_clinic
    from tests.integration.web.conftest import new_browser

    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    screening = screen(browser, csrf, patient, intake("female"))
    other = seed_clinic(services.accounts)
    with new_browser(services) as outsider:
        sign_in(outsider, other, Role.CLINICIAN)
        assert outsider.get(f"/screenings/{screening}").status_code == 404
        assert outsider.get(f"/patients/{patient}").status_code == 404
