"""Invariants of screening over every intake Hypothesis can think of."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mesoscreen.domain.conditions import UNKNOWN_VALUE
from mesoscreen.domain.vocabulary import Category, Outcome
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService
from tests.strategies import SCREENING_DAY, answers_for

KB = default_knowledge_base()
SERVICE = ScreeningService(KB)
RISK_QUESTIONS = [q for q in KB.questions if q.risk_answer is not None]


@settings(max_examples=400)
@given(answers_for(KB))
def test_an_unknown_or_missing_answer_that_applies_never_gives_eligible(
    raw: dict[str, Any],
) -> None:
    """Eligible only when nothing applicable is missing: 'unknown' is never read as 'no'."""
    decision = SERVICE.screen(raw, SCREENING_DAY)
    if decision.outcome is Outcome.ELIGIBLE:
        assert decision.missing == ()
        assert decision.findings == ()
    if decision.missing:
        assert decision.outcome is not Outcome.ELIGIBLE
        assert decision.outcome is not Outcome.PRECAUTIONS


@settings(max_examples=400)
@given(answers_for(KB), st.sampled_from(RISK_QUESTIONS))
def test_moving_an_answer_towards_risk_never_lowers_severity(
    raw: dict[str, Any], question: Any
) -> None:
    """Changing a safe answer to its risk answer never makes the outcome less severe."""
    safe = "no" if question.risk_answer == "yes" else "yes"
    safer = SERVICE.screen(raw | {question.id: safe}, SCREENING_DAY)
    riskier = SERVICE.screen(raw | {question.id: question.risk_answer}, SCREENING_DAY)
    assert riskier.outcome.severity >= safer.outcome.severity


@settings(max_examples=200)
@given(answers_for(KB))
def test_the_same_intake_gives_the_same_decision(raw: dict[str, Any]) -> None:
    """Screening is deterministic."""
    assert (
        SERVICE.screen(raw, SCREENING_DAY).as_dict()
        == SERVICE.screen(dict(raw), SCREENING_DAY).as_dict()
    )


@settings(max_examples=200)
@given(answers_for(KB))
def test_every_finding_cites_a_source_passage(raw: dict[str, Any]) -> None:
    """No reason without its source; a contradiction's source is the answers themselves."""
    for finding in SERVICE.screen(raw, SCREENING_DAY).findings:
        if finding.category is Category.CONTRADICTORY_ANSWERS:
            assert finding.citation.source == "intake"
            continue
        assert finding.citation.source in KB.sources
        assert len(finding.citation.passage) > 10


@settings(max_examples=300)
@given(answers_for(KB), answers_for(KB))
def test_an_answered_value_no_decision_reads_can_change_without_changing_the_decision(
    raw: dict[str, Any], other: dict[str, Any]
) -> None:
    """Where ``reads_value`` says a decision does not read an answered fact's value, another
    answered value of that fact gives the same decision key and the same decision; where
    it says it reads it, the decision key keeps that value."""
    screener = SERVICE.screener
    intake = SERVICE.schema.parse(raw, SCREENING_DAY)
    known = {key for key, value in intake.facts.items() if value != UNKNOWN_VALUE}
    key = dict(screener.decision_key(intake.facts))
    for fact in known:
        if screener.reads_value(fact, known):
            assert key[fact] == intake.facts[fact]
            continue
        assert key[fact] is True
        if other.get(fact, UNKNOWN_VALUE) == UNKNOWN_VALUE:
            continue
        changed = SERVICE.schema.parse(raw | {fact: other[fact]}, SCREENING_DAY)
        assert screener.decision_key(changed.facts) == screener.decision_key(intake.facts)
        assert screener.evaluate(changed, SCREENING_DAY) == screener.evaluate(intake, SCREENING_DAY)
