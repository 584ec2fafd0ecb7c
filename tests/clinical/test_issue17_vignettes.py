"""Clinical vignettes for each class of issue 17: a known risk never disappears behind an
unknown follow-up, no answer is ignored, a range is read the stricter way, and antiandrogens
wait for a pregnancy test and contraception when pregnancy is possible."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mesoscreen.domain.decision import Decision
from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.policy import make_policy
from mesoscreen.domain.vocabulary import Category, Outcome
from mesoscreen.entrypoints.cli.report import render_report
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import default_atlas, default_formulary
from mesoscreen.services.planning import PlanningService
from mesoscreen.services.screening import ScreeningService
from tests.factories import plan_request
from tests.intakes import intake

KB = default_knowledge_base()
ON = date(2026, 11, 25)
PERMITTING = {Outcome.ELIGIBLE, Outcome.PRECAUTIONS, Outcome.SPECIALIST_CLEARANCE}


def _screen(raw: dict[str, Any], **readings: str) -> Decision:
    policy = make_policy(KB, "vignette", readings)
    return ScreeningService(KB, policy).screen({k: v for k, v in raw.items() if v is not None}, ON)


def _rules(decision: Decision) -> set[str]:
    return {f.rule for f in decision.findings}


# A known risk never disappears behind an unknown follow-up.


def test_heart_disease_with_stability_unknown_shows_the_clearance_and_what_it_becomes() -> None:
    """'Specialist clearance; deferred until stable if not confirmed', in the report too."""
    decision = _screen(
        intake("male", cardiovascular_disease="yes", cardiovascular_stable="unknown")
    )
    (finding,) = [f for f in decision.findings if f.category is Category.CARDIOVASCULAR]
    assert (finding.outcome, finding.otherwise) == (
        Outcome.SPECIALIST_CLEARANCE,
        Outcome.DEFERRED,
    )
    assert "minoxidil" in {e.ingredient for e in decision.excluded_ingredients}
    report = render_report(decision, KB)
    assert "Still to confirm: cardiovascular_stable; if not confirmed: deferred" in report


def test_insulin_diabetes_with_stability_unknown_under_the_supervised_policy() -> None:
    """The endocrinology clearance stays, with its actions."""
    decision = _screen(
        intake("male", insulin_dependent_diabetes="yes", diabetes_stable="unknown"),
        insulin_dependent_diabetes="defer_until_stable",
    )
    assert "diabetes_managed" in _rules(decision)
    assert "endocrinologist_clearance" in {a.action.id for a in decision.required_actions}
    assert decision.outcome is Outcome.INCOMPLETE


def test_recent_weaning_with_an_unknown_date_is_deferred() -> None:
    """'Stopped within 6 months' with no date: deferred, with no date to give yet."""
    decision = _screen(intake(recently_weaned="yes"))
    assert decision.outcome is Outcome.DEFERRED
    assert decision.earliest_date is None
    assert decision.missing == ("weaned_on",)


def test_unknown_breastfeeding_with_a_weaning_date_inside_the_wait_is_deferred() -> None:
    """Breastfeeding or weaned seven weeks ago: either way deferred."""
    decision = _screen(
        intake(breastfeeding="unknown", recently_weaned=None, weaned_on="2026-10-07")
    )
    assert decision.outcome is Outcome.DEFERRED


# No answer is ignored.


@pytest.mark.parametrize(
    ("answers", "check"),
    [
        (
            intake(recently_weaned="no", weaned_on="2026-10-07"),
            "weaning_date_within_wait_but_not_recently_weaned",
        ),
        (intake(weaned_on="1980-01-01", recently_weaned=None), "weaning_date_before_birth_date"),
        (intake("male", recently_weaned="yes", weaned_on="2026-10-07"), "weaning_date_for_a_man"),
        (intake("male", pregnant="yes"), "answer_where_not_asked_pregnant"),
        (intake(allergy_history="no", allergens=["lidocaine"]), "answer_where_not_asked_allergens"),
        (intake(allergy_history="yes", allergens=[]), "allergy_without_allergen"),
        (
            intake(breastfeeding="yes", recently_weaned=None, weaned_on="2026-10-07"),
            "breastfeeding_with_weaning_date",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_contradictory_answers_are_a_finding_and_never_permit_treatment(
    answers: dict[str, Any], check: str
) -> None:
    """Both answers listed, the stricter reading applied, outcome neither eligible nor
    precautions."""
    decision = _screen(answers)
    finding = next(f for f in decision.findings if f.rule == check)
    assert finding.category is Category.CONTRADICTORY_ANSWERS
    assert len(finding.evidence) >= 2
    assert "confirm_contradictory_answers" in {a.action.id for a in decision.required_actions}
    assert decision.outcome not in (Outcome.ELIGIBLE, Outcome.PRECAUTIONS)


def test_a_weaning_date_seven_weeks_ago_with_not_recently_weaned_is_deferred() -> None:
    """The stricter reading: the date inside the wait defers (it gave eligible)."""
    decision = _screen(intake(recently_weaned="no", weaned_on="2026-10-07"))
    assert decision.outcome is Outcome.DEFERRED
    assert decision.earliest_date == date(2027, 4, 7)


def test_a_weaning_date_without_the_gate_question_answers_it() -> None:
    """The date answers 'weaned within 6 months?' (it was ignored)."""
    decision = _screen(intake(recently_weaned=None, weaned_on="2026-10-07"))
    assert decision.outcome is Outcome.DEFERRED
    assert "recently_weaned" not in decision.missing


def test_weaning_answers_for_a_man_are_used_not_hidden() -> None:
    """A man's weaning answers: deferred, and the pregnancy questions asked again."""
    decision = _screen(intake("male", recently_weaned="yes", weaned_on="2026-10-07"))
    assert decision.outcome is Outcome.DEFERRED
    assert "breastfeeding" in decision.missing


def test_an_allergen_named_with_no_allergy_history_is_excluded() -> None:
    """The named allergen excludes its ingredient (nothing was excluded)."""
    decision = _screen(intake(allergy_history="no", allergens=["lidocaine"]))
    assert "lidocaine" in {e.ingredient for e in decision.excluded_ingredients}
    assert decision.outcome is Outcome.INCOMPLETE


def test_a_harmless_answer_to_a_question_that_does_not_apply_is_reported() -> None:
    """'Pregnant: no' from a man changes nothing and is listed."""
    decision = _screen(intake("male", pregnant="no"))
    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.not_applicable_answers == ("pregnant",)


# The stricter reading of a range, and one set of dates.


def test_weaned_four_months_ago_is_deferred_until_six_months_with_the_lenient_date_shown() -> None:
    """Between 3 and 6 months: deferred (it was precautions with no earliest date)."""
    decision = _screen(intake(recently_weaned="yes", weaned_on="2026-07-25"))
    (finding,) = [f for f in decision.findings if f.rule == "weaning_wait"]
    assert decision.outcome is Outcome.DEFERRED
    assert decision.earliest_date == finding.until == date(2027, 1, 25)
    assert finding.lenient_until == date(2026, 10, 25)
    report = render_report(decision, KB)
    assert "Earliest date: 2027-01-25" in report
    assert "Not before: 2027-01-25" in report


def test_every_date_the_report_prints_is_a_date_of_the_json() -> None:
    """The report prints no date that the decision's JSON does not carry."""
    decision = _screen(intake(recently_weaned="yes", weaned_on="2026-07-25"))
    document = str(decision.as_dict())
    for line in render_report(decision, KB).splitlines():
        for word in line.replace(",", " ").split():
            if len(word) == 10 and word[4] == "-" and word[7] == "-" and word != "2026-11-25":
                assert word in document, line


def test_a_clinic_policy_may_wait_three_months() -> None:
    """The lenient reading is a policy choice, recorded with the decision."""
    decision = _screen(
        intake(recently_weaned="yes", weaned_on="2026-07-25"), weaning_wait="three_months"
    )
    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.policy.readings["weaning_wait"] == "three_months"


def test_the_cardiovascular_conflict_is_registered_with_why_its_default_is_not_stricter() -> None:
    """'Should avoid' beside 'defer until stable, supervised'; the default gives its reason."""
    conflict = KB.conflicts["cardiovascular_disease"]
    assert {r.id for r in conflict.readings} == {"avoid", "defer_until_stable"}
    assert conflict.default == "defer_until_stable"
    assert conflict.default_reason is not None
    strict = _screen(intake("male", cardiovascular_disease="yes", cardiovascular_stable="yes"),
                     cardiovascular_disease="avoid")  # fmt: skip
    assert strict.outcome is Outcome.CONTRAINDICATED


# Antiandrogens when pregnancy is possible.


def _plan_with_dutasteride(decision: Decision, done: tuple[str, ...]) -> None:
    PlanningService(default_atlas(), default_formulary(KB)).plan(plan_request(), decision, done)


def test_a_thirty_year_old_woman_gets_no_dutasteride_plan_without_test_and_contraception() -> None:
    """Pregnancy not ruled out (unanswered): dutasteride excluded, lifted by both actions."""
    raw = {k: v for k, v in intake(birth_date="1996-05-01").items() if k != "pregnancy_possible"}
    decision = _screen(raw)
    (excluded,) = [e for e in decision.excluded_ingredients if e.ingredient == "dutasteride"]
    assert excluded.lifted_by == ("pregnancy_test_negative", "contraception_confirmed")
    with pytest.raises(PlanError, match="dutasteride"):
        _plan_with_dutasteride(decision, ())
    with pytest.raises(PlanError, match="still open: contraception_confirmed"):
        _plan_with_dutasteride(decision, ("pregnancy_test_negative",))
    _plan_with_dutasteride(decision, ("pregnancy_test_negative", "contraception_confirmed"))


def test_pregnancy_ruled_out_by_the_patients_own_answer_lifts_nothing_needed() -> None:
    """'Could you become pregnant? no' (after menopause): no antiandrogen exclusion."""
    decision = _screen(intake(pregnancy_possible="no"))
    assert "dutasteride" not in {e.ingredient for e in decision.excluded_ingredients}


def test_an_unknown_sex_counts_as_may_become_pregnant() -> None:
    """Unknown counts as may."""
    raw = {k: v for k, v in intake().items() if k not in ("sex", "pregnancy_possible")}
    assert "pregnancy_potential" in _rules(_screen(raw))


def test_a_current_pregnancy_excludes_antiandrogens_whatever_is_done() -> None:
    """The pregnancy rule's exclusion is unconditional and wins over the conditional one."""
    decision = _screen(intake(pregnant="yes", pregnancy_possible="yes"))
    (excluded,) = [e for e in decision.excluded_ingredients if e.ingredient == "finasteride"]
    assert excluded.lifted_by == ()
    assert decision.outcome not in PERMITTING
