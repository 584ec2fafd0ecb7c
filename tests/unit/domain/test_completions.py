"""Decisions over completions (ADR 0011): exhaustive over each category's facts, and
Hypothesis over whole intakes."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesoscreen.domain.decision import Decision
from mesoscreen.domain.knowledge_base import AnswerType, Question
from mesoscreen.domain.policy import make_policy
from mesoscreen.domain.vocabulary import Category
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService
from tests.intakes import CLEAR_FEMALE
from tests.strategies import SCREENING_DAY, answers_for

KB = default_knowledge_base()
QUESTIONS = {q.id: q for q in KB.questions}
MISSING = object()
# Dates chosen by the test, not by the engine's boundary classes: 10 days to 13 months ago.
DAYS_AGO = (10, 45, 80, 100, 150, 175, 190, 250, 400)
# Pregnancy potential reads an unknown as "may" on purpose: knowing more may lift it.
NOT_MONOTONE = {Category.PREGNANCY_POTENTIAL}
POLICIES = {
    "default": {},
    "lenient": {
        "insulin_dependent_diabetes": "defer_until_stable",
        "weaning_wait": "three_months",
        "anticoagulant_therapy": "prescriber_clearance",
    },
}


def _service(policy: str) -> ScreeningService:
    return ScreeningService(KB, make_policy(KB, policy, POLICIES[policy]))


SERVICES = {name: _service(name) for name in POLICIES}


def _domain(question: Question) -> list[Any]:
    """Every value the test completes a question with."""
    if question.answer_type is AnswerType.YES_NO_UNKNOWN:
        return ["yes", "no"]
    if question.answer_type is AnswerType.CHOICE:
        return list(question.choices)
    if question.answer_type is AnswerType.DATE:
        return [(SCREENING_DAY - timedelta(days=d)).isoformat() for d in DAYS_AGO]
    return [[], ["lidocaine"]]


def _severity(decision: Decision, category: Category) -> int:
    """The category's severity in a decision: its most severe finding, 0 without one."""
    return max((f.outcome.severity for f in decision.findings if f.category is category), default=0)


def _open(raw: dict[str, Any]) -> list[str]:
    """Questions a completion answers: unknown or missing, applicable, not answered by
    another answer (a weaning date answers 'weaned recently?')."""
    typed = {
        k: date.fromisoformat(v) if QUESTIONS[k].answer_type is AnswerType.DATE
        and v != "unknown" else (tuple(v) if isinstance(v, list) else v)
        for k, v in raw.items()
    }  # fmt: skip
    out, skipped = [], set()
    for question in KB.questions:
        condition = question.applies_when
        if condition is not None and (
            not skipped.isdisjoint(condition.facts())
            or condition.evaluate(typed, SCREENING_DAY).value == "false"
        ):
            skipped.add(question.id)
            continue
        if raw.get(question.id, "unknown") != "unknown":
            continue
        if question.answered_by and raw.get(question.answered_by, "unknown") != "unknown":
            continue
        out.append(question.id)
    return out


def _completions(raw: dict[str, Any], facts: list[str]) -> list[dict[str, Any]]:
    """Every completion of ``facts`` over the test's domains."""
    keys = [f for f in _open(raw) if f in facts]
    return [
        raw | dict(zip(keys, values, strict=True))
        for values in product(*(_domain(QUESTIONS[k]) for k in keys))
    ]


def _category_cases() -> list[tuple[str, Category, list[str]]]:
    """Each category with the facts its rules read, under each policy."""
    cases = []
    for policy, service in SERVICES.items():
        by_category: dict[Category, set[str]] = {}
        for rule in service.screener._rules:  # the rules in force under this policy
            by_category.setdefault(rule.category, set()).update(rule.when.facts())
        for category, facts in by_category.items():
            if category not in NOT_MONOTONE:
                cases.append((policy, category, sorted(facts)))
    return cases


@pytest.mark.parametrize(
    ("policy", "category", "facts"),
    _category_cases(),
    ids=lambda value: value.value if isinstance(value, Category) else str(value)[:40],
)
def test_each_category_is_its_least_severe_outcome_over_every_completion(
    policy: str, category: Category, facts: list[str]
) -> None:
    """Exhaustively over the category's facts (each answer, unknown or missing): the category's
    severity is the minimum over every completion, so a risk every completion shows is shown."""
    service = SERVICES[policy]
    choices = [[*_domain(QUESTIONS[f])[:5], "unknown", MISSING] for f in facts]
    for values in product(*choices):
        raw = {k: v for k, v in CLEAR_FEMALE.items() if k not in facts}
        raw |= {k: v for k, v in zip(facts, values, strict=True) if v is not MISSING}
        partial = _severity(service.screen(raw, SCREENING_DAY), category)
        completed = [
            _severity(service.screen(c, SCREENING_DAY), category) for c in _completions(raw, facts)
        ]
        assert partial == min(completed), (raw, partial, completed)


@st.composite
def _partial_and_completion(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A partial intake and one completion of its unknown or missing answers (any values,
    contradictory ones included)."""
    partial = draw(answers_for(KB))
    completion = dict(partial)
    for question in KB.questions:
        if partial.get(question.id, "unknown") == "unknown" and question.id not in (
            "sex",
            "pregnancy_possible",
        ):
            completion[question.id] = draw(st.sampled_from(_domain(question)))
    return partial, completion


@settings(max_examples=300, deadline=None)
@given(_partial_and_completion())
def test_a_partial_intake_is_never_more_severe_than_any_completion(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """For every partial intake P and completion C: P's severity per category is at most C's,
    and a category C lacks is never forced in P above what C shows."""
    partial, completion = pair
    p = SERVICES["default"].screen(partial, SCREENING_DAY)
    c = SERVICES["default"].screen(completion, SCREENING_DAY)
    for category in Category:
        if category in NOT_MONOTONE or category is Category.RULE_ERROR:
            continue
        assert _severity(p, category) <= _severity(c, category), (category, partial, completion)


def test_heart_disease_with_stability_unknown_keeps_the_cardiovascular_finding() -> None:
    """Issue 17: 'specialist clearance; deferred until stable if not confirmed', with the
    cardiology actions and the vasodilator exclusion, and never a permitting outcome."""
    raw = {k: v for k, v in CLEAR_FEMALE.items()} | {
        "cardiovascular_disease": "yes",
        "cardiovascular_stable": "unknown",
    }
    decision = SERVICES["default"].screen(raw, SCREENING_DAY)
    (finding,) = [f for f in decision.findings if f.category is Category.CARDIOVASCULAR]
    assert finding.rule == "cardiovascular_managed"
    assert finding.to_confirm == ("cardiovascular_stable",)
    assert finding.otherwise is not None
    assert finding.otherwise.value == "deferred"
    assert {"cardiologist_clearance", "dermatologist_supervision"} <= {
        a.action.id for a in decision.required_actions
    }
    assert "minoxidil" in {e.ingredient for e in decision.excluded_ingredients}
    assert decision.outcome.value == "incomplete"
    assert not decision.outcome.permits_treatment
