"""The screening engine: combining findings, missing answers, exclusions, failures."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from mesoscreen.domain.conditions import (
    AllOf,
    Answered,
    Condition,
    FactIs,
    Facts,
    MonthsSince,
    Not,
    Truth,
)
from mesoscreen.domain.knowledge_base import ConsistencyCheck, Text
from mesoscreen.domain.policy import make_policy
from mesoscreen.domain.vocabulary import Category, Outcome
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService
from tests.intakes import CLEAR_FEMALE, CLEAR_MALE, intake

ON = date(2026, 11, 25)


def _screen(raw: dict[str, Any], **readings: str) -> Any:
    """Screen with the shipped knowledge under the given readings."""
    kb = default_knowledge_base()
    return ScreeningService(kb, make_policy(kb, "test", readings)).screen(raw, ON)


def test_a_fully_answered_risk_free_intake_is_eligible() -> None:
    """No risk and nothing unknown: eligible, with nothing to do."""
    decision = _screen(CLEAR_FEMALE)
    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.findings == ()
    assert decision.missing == ()


def test_pregnancy_questions_do_not_apply_to_a_man() -> None:
    """A man's intake without pregnancy answers is complete."""
    assert _screen(CLEAR_MALE).outcome is Outcome.ELIGIBLE


def test_an_empty_intake_is_incomplete_and_lists_every_required_question() -> None:
    """Nothing answered: incomplete, and follow-up questions are asked too (sex is unknown)."""
    decision = _screen({})
    assert decision.outcome is Outcome.INCOMPLETE
    assert {"sex", "pregnant", "breastfeeding", "cancer_history"} <= set(decision.missing)


def test_an_unknown_answer_makes_an_otherwise_clear_intake_incomplete() -> None:
    """'unknown' on one safety question is never eligible."""
    decision = _screen(intake(cancer_history="unknown"))
    assert decision.outcome is Outcome.INCOMPLETE
    assert decision.missing == ("cancer_history",)


def test_a_follow_up_question_is_asked_when_its_gate_is_unknown() -> None:
    """Breastfeeding unknown: the weaning questions may apply, so they are missing too."""
    decision = _screen(intake(breastfeeding="unknown", recently_weaned=None))
    assert {"breastfeeding", "recently_weaned", "weaned_on"} <= set(decision.missing)


def test_a_blocking_finding_outranks_missing_answers() -> None:
    """Contraindicated with unanswered questions is still contraindicated, and lists them."""
    decision = _screen(intake(cancer_history="yes", sensitive_skin="unknown"))
    assert decision.outcome is Outcome.CONTRAINDICATED
    assert decision.missing == ("sensitive_skin",)


def test_missing_answers_outrank_precautions() -> None:
    """Precautions with an unknown answer is incomplete, not precautions."""
    decision = _screen(intake(sensitive_skin="yes", cancer_history="unknown"))
    assert decision.outcome is Outcome.INCOMPLETE


def test_allergy_without_the_allergen_list_is_incomplete() -> None:
    """An allergy history needs the list of allergens to exclude ingredients."""
    decision = _screen(intake(allergy_history="yes"))
    assert decision.outcome is Outcome.INCOMPLETE
    assert decision.missing == ("allergens",)


def test_cardiovascular_disease_of_unknown_stability_asks_about_stability() -> None:
    """Neither cardiovascular rule can decide, so stability is asked and nothing is eligible."""
    decision = _screen(intake(cardiovascular_disease="yes"))
    assert decision.outcome is Outcome.INCOMPLETE
    assert decision.missing == ("cardiovascular_stable",)


def test_the_most_severe_finding_decides_and_every_reason_is_kept() -> None:
    """Deferred and contraindicated together: contraindicated, both findings listed."""
    decision = _screen(intake(pregnant="yes", clotting_disorder="yes"))
    assert decision.outcome is Outcome.CONTRAINDICATED
    assert [f.rule for f in decision.findings] == ["pregnancy", "clotting_disorder"]
    assert decision.earliest_date is None


def test_earliest_date_of_one_dated_deferral_is_when_it_ends() -> None:
    """Weaned on 15 October: treatment from 15 April, 6 months after weaning (the stricter
    end of the source's 3-6 months)."""
    decision = _screen(intake(recently_weaned="yes", weaned_on="2026-10-15"))
    assert decision.earliest_date == date(2027, 4, 15)


@pytest.mark.parametrize("longer_first", [True, False])
def test_earliest_date_is_the_latest_of_several_dated_deferrals(longer_first: bool) -> None:
    """Two dated deferrals (6 and 9 months after weaning), in either order: the earliest
    treatment date is when the last one ends, never the first or the sooner one."""
    kb = default_knowledge_base()
    six = next(rule for rule in kb.rules if rule.id == "weaning_wait")
    assert six.defer_until is not None
    nine = replace(six, id="weaning_wait_nine_months",
                   defer_until=replace(six.defer_until, months=9, lenient_months=None))  # fmt: skip
    others = [rule for rule in kb.rules if rule.id != "weaning_wait"]
    rules = [*others, nine, six] if longer_first else [*others, six, nine]
    decision = ScreeningService(kb, rules=rules).screen(
        intake(recently_weaned="yes", weaned_on="2026-10-15"), ON
    )
    assert decision.outcome is Outcome.DEFERRED
    ends = {f.rule: f.until for f in decision.findings}
    assert ends == {
        "weaning_wait": date(2027, 4, 15),
        "weaning_wait_nine_months": date(2027, 7, 15),
    }
    assert decision.earliest_date == date(2027, 7, 15)


def test_an_open_ended_deferral_leaves_the_earliest_date_unknown() -> None:
    """A dated deferral plus an undated one (scalp infection): no earliest date."""
    decision = _screen(
        intake(
            recently_weaned="yes", weaned_on="2026-10-15", treatment_area_wound_or_infection="yes"
        )
    )
    assert decision.outcome is Outcome.DEFERRED
    assert decision.earliest_date is None


def test_allergens_exclude_ingredients_by_name_synonym_and_class() -> None:
    """'Xylocaine' names lidocaine; 'local anaesthetics' names the whole class."""
    decision = _screen(
        intake(allergy_history="yes", allergens=["Xylocaine cream", "local anaesthetics", "cats"])
    )
    excluded = {e.ingredient: e.reason for e in decision.excluded_ingredients}
    assert excluded["lidocaine"] == "allergen:Xylocaine cream"
    assert excluded["procaine"] == "allergen:local anaesthetics"
    assert decision.unmatched_allergens == ("cats",)


def test_the_decision_records_knowledge_version_hash_and_policy() -> None:
    """Traceability: every decision names the knowledge base and the policy in force."""
    kb = default_knowledge_base()
    decision = _screen(CLEAR_MALE)
    assert decision.knowledge_base_version == kb.version
    assert decision.knowledge_base_hash.startswith("sha256:")
    assert decision.as_dict()["policy"] == {
        "name": "test",
        "readings": {
            "anticoagulant_therapy": "exclude",
            "cardiovascular_disease": "defer_until_stable",
            "insulin_dependent_diabetes": "absolute",
            "weaning_wait": "six_months",
        },
        "hash": None,
    }


def test_a_finding_from_a_conflict_shows_every_reading_and_the_chosen_one() -> None:
    """The diabetes conflict is surfaced, not hidden."""
    decision = _screen(intake(insulin_dependent_diabetes="yes", diabetes_stable="yes"))
    conflict = decision.findings[0].conflict
    assert conflict is not None
    assert conflict.chosen == "absolute"
    assert [r.id for r in conflict.readings] == ["absolute", "defer_until_stable"]


def test_deferrals_for_pregnancy_offer_the_safer_alternatives() -> None:
    """Someone who must wait is told what to do meanwhile."""
    decision = _screen(intake(pregnant="yes"))
    assert [a.id for a in decision.alternatives] == [
        "balanced_diet",
        "scalp_massage",
        "mild_shampoo",
        "doctor_for_persistent_loss",
    ]


class _Exploding:
    """A condition that fails, standing in for a broken rule."""

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """Always raises."""
        raise ZeroDivisionError

    def facts(self) -> frozenset[str]:
        """Reads one fact."""
        return frozenset({"cancer_history"})


@pytest.mark.parametrize("raw", [CLEAR_FEMALE, CLEAR_MALE])
def test_a_rule_that_raises_fails_closed(raw: dict[str, Any]) -> None:
    """A broken rule gives an error finding and never 'eligible'."""
    kb = default_knowledge_base()
    broken = tuple(
        replace(rule, when=_Exploding()) if rule.id == "cancer_history" else rule
        for rule in kb.rules
    )
    decision = ScreeningService(kb, rules=broken).screen(raw, ON)
    assert decision.outcome is Outcome.INCOMPLETE
    error = next(f for f in decision.findings if f.category is Category.RULE_ERROR)
    assert error.rule == "cancer_history"
    assert error.error == "ZeroDivisionError"


def test_equal_decision_keys_mean_equal_decisions_even_for_contradictions() -> None:
    """The bulk memo key holds the birth date's value exactly when a weaning date is given,
    since only then can 'weaned before birth' hold; a weaning date before one birth date and
    after another gives different keys and decisions."""
    service = ScreeningService(default_knowledge_base())
    screener = service.screener
    day = date(2026, 11, 25)
    before = service.schema.parse(intake(weaned_on="1985-01-01", birth_date="1990-01-01"), day)
    after = service.schema.parse(intake(weaned_on="1985-01-01", birth_date="1980-01-01"), day)
    assert screener.decision_key(before.facts) != screener.decision_key(after.facts)
    assert screener.evaluate(before, day) != screener.evaluate(after, day)
    plain = [service.schema.parse(intake(birth_date=b), day) for b in ("1990-01-01", "1980-01-01")]
    assert screener.decision_key(plain[0].facts) == screener.decision_key(plain[1].facts)
    assert screener.evaluate(plain[0], day) == screener.evaluate(plain[1], day)


_MINOR = MonthsSince("birth_date", less_than=216)


@pytest.mark.parametrize(
    ("when", "answers"),
    [
        (AllOf((_MINOR, Not(Answered("pregnant")))), ("birth_date", "pregnant")),
        (AllOf((FactIs("sex", "male"), _MINOR)), ("sex", "birth_date")),
        (_MINOR, ("birth_date",)),
        (FactIs("sex", "male"), ("sex", "birth_date")),
    ],
    ids=["not-answered-part", "sex-and-birth-date", "birth-date-alone", "evidence-only"],
)
def test_a_consistency_check_s_facts_are_valued_once_what_it_needs_to_hold_is_given(
    when: Condition, answers: tuple[str, ...]
) -> None:
    """A check that can hold on a man's sex and birth date alone (a ``not answered`` part
    holds on a missing answer; a finding's evidence shows every answer it names) makes the
    birth date's value part of the decision key, and ``reads_value`` says so: two birth
    dates, a minor's and an adult's, give different keys and different decisions."""
    kb = default_knowledge_base()
    check = ConsistencyCheck("test_check", when, answers, Text(en="x", vi="x"))
    service = ScreeningService(replace(kb, consistency_checks=(*kb.consistency_checks, check)))
    screener = service.screener
    day = date(2026, 11, 25)
    minor, adult = (
        service.schema.parse({"sex": "male", "birth_date": born}, day)
        for born in ("2015-06-15", "1980-06-15")
    )
    assert screener.reads_value("birth_date", {"sex", "birth_date"})
    assert screener.decision_key(minor.facts) != screener.decision_key(adult.facts)
    assert screener.evaluate(minor, day) != screener.evaluate(adult, day)
