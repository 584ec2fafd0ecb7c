"""Every rule, made to raise in turn, against every test vector: the engine fails closed.

A broken rule must never let a decision through as ``eligible`` (or as ``precautions``,
which also clears treatment): either it was evaluated, and the decision carries an error
finding for it and is at best ``incomplete``, or it read only unanswered facts and the
decision is the same as with the rule intact.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import cache
from typing import Any

import pytest

from mesoscreen.domain.conditions import Facts, Truth
from mesoscreen.domain.decision import Decision
from mesoscreen.domain.policy import make_policy
from mesoscreen.domain.vocabulary import Category, Outcome
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService
from tests.clinical.test_rule_vectors import DEFAULT_DAY, VECTORS
from tests.intakes import BASES

CLEARING = {Outcome.ELIGIBLE, Outcome.PRECAUTIONS}
RULE_IDS = [rule.id for rule in default_knowledge_base().rules]


class _Raising:
    """A condition that raises on evaluation, reading the same facts as the rule it replaces."""

    def __init__(self, reads: frozenset[str]) -> None:
        self.reads = reads

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """Fails as a broken rule would."""
        raise KeyError("a fault inside the rule")

    def facts(self) -> frozenset[str]:
        """The facts of the original rule, so the engine consults it when they are known."""
        return self.reads


@cache
def _services(
    broken_rule: str | None, policy_items: tuple[tuple[str, str], ...]
) -> ScreeningService:
    """A screening service under the policy, with ``broken_rule`` raising (None: intact)."""
    kb = default_knowledge_base()
    policy = make_policy(kb, "test policy", dict(policy_items))
    if broken_rule is None:
        return ScreeningService(kb, policy)
    rules = tuple(
        replace(rule, when=_Raising(rule.when.facts())) if rule.id == broken_rule else rule
        for rule in kb.rules
    )
    return ScreeningService(kb, policy, rules=rules)


def _screen(vector: dict[str, Any], broken_rule: str | None) -> Decision:
    """The vector's intake screened on its day, with ``broken_rule`` raising."""
    raw = BASES[vector["base"]] | vector.get("set", {})
    for key in vector.get("unset", []):
        raw.pop(key, None)
    policy = tuple(sorted(vector.get("policy", {}).items()))
    on = date.fromisoformat(vector["day"]) if "day" in vector else DEFAULT_DAY
    return _services(broken_rule, policy).screen(raw, on)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_a_rule_that_raises_never_clears_a_patient(rule_id: str) -> None:
    """On every vector, the broken rule gives an error finding and no clearing outcome, unless
    it was never needed (then the decision is exactly the intact one)."""
    consulted = 0
    for vector in VECTORS:
        broken = _screen(vector, rule_id)
        errors = [f for f in broken.findings if f.category is Category.RULE_ERROR]
        if errors:
            consulted += 1
            assert [f.rule for f in errors] == [rule_id]
            assert errors[0].error == "KeyError"
            assert broken.outcome not in CLEARING, (vector, broken.outcome)
            assert broken.outcome.severity >= Outcome.INCOMPLETE.severity
        else:
            assert broken == _screen(vector, None), vector
    assert consulted, f"{rule_id}: no vector made the engine consult the broken rule"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_a_broken_rule_does_not_hide_what_the_other_rules_found(rule_id: str) -> None:
    """With one rule broken, a contraindication found by another rule still decides."""
    vector = next(
        v for v in VECTORS
        if v["kind"] == "fires" and v["rule"] != rule_id
        and v["expect"]["outcome"] == "contraindicated"
    )  # fmt: skip
    assert _screen(vector, rule_id).outcome is Outcome.CONTRAINDICATED
