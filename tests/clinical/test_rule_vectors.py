"""Every screening rule against its test vectors, and a meta-test that no rule lacks them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from mesoscreen.domain.conditions import Condition, MonthsSince
from mesoscreen.domain.knowledge_base import Rule
from mesoscreen.domain.policy import make_policy
from mesoscreen.domain.vocabulary import Category, Outcome
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService
from tests.intakes import BASES

VECTORS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "vectors" / "rules.yaml").read_text(encoding="utf-8")
)["vectors"]
DEFAULT_DAY = date(2026, 11, 25)


def _vector_id(vector: dict[str, Any]) -> str:
    """A readable test id: rule and kind."""
    return f"{vector['rule']}-{vector['kind']}"


def _run(vector: dict[str, Any]) -> Any:
    """Screen the vector's intake on its date under its policy."""
    kb = default_knowledge_base()
    raw = BASES[vector["base"]] | vector.get("set", {})
    for key in vector.get("unset", []):
        raw.pop(key, None)
    policy = make_policy(kb, "test policy", vector.get("policy", {}))
    on = date.fromisoformat(vector["day"]) if "day" in vector else DEFAULT_DAY
    return ScreeningService(kb, policy).screen(raw, on)


@pytest.mark.parametrize("vector", VECTORS, ids=_vector_id)
def test_rule_vector(vector: dict[str, Any]) -> None:
    """The rule fires exactly when the vector says, with the expected decision."""
    decision = _run(vector)
    fired = {f.rule for f in decision.findings}
    should_fire = vector["kind"] in ("fires", "boundary_in", "unknown", "contradictory")
    assert (vector["rule"] in fired) is should_fire, fired
    expect = vector["expect"]
    assert decision.outcome.value == expect["outcome"]
    if "earliest_date" in expect:
        assert decision.earliest_date == (
            date.fromisoformat(expect["earliest_date"]) if expect["earliest_date"] else None
        )
    finding = next((f for f in decision.findings if f.rule == vector["rule"]), None)
    if "until" in expect:
        assert finding is not None
        assert finding.until == date.fromisoformat(expect["until"])
    if "lenient_until" in expect:
        assert finding is not None
        assert finding.lenient_until == date.fromisoformat(expect["lenient_until"])
    if "to_confirm" in expect:
        assert finding is not None
        assert list(finding.to_confirm) == expect["to_confirm"]
    if "otherwise" in expect:
        assert finding is not None
        assert finding.otherwise is not None
        assert finding.otherwise.value == expect["otherwise"]
    if "missing" in expect:
        assert list(decision.missing) == expect["missing"]
    assert set(expect.get("findings", [])) <= fired
    if vector["kind"] == "contradictory":
        finding = next(f for f in decision.findings if f.rule == vector["rule"])
        assert finding.category is Category.CONTRADICTORY_ANSWERS
        assert len(finding.evidence) >= 2  # both answers listed
        assert decision.outcome not in (Outcome.ELIGIBLE, Outcome.PRECAUTIONS)
    if "lifted_by" in expect:
        for excluded in decision.excluded_ingredients:
            if excluded.ingredient in expect["excluded"]:
                assert list(excluded.lifted_by) == expect["lifted_by"]
    if "actions" in expect:
        assert [a.action.id for a in decision.required_actions] == expect["actions"]
    excluded = {e.ingredient for e in decision.excluded_ingredients}
    assert set(expect.get("excluded", [])) <= excluded


def _has_threshold(condition: Condition) -> bool:
    """Whether a condition compares a date with a bound anywhere inside it."""
    if isinstance(condition, MonthsSince):
        return True
    parts = getattr(condition, "parts", None) or (
        (condition.part,) if hasattr(condition, "part") else ()
    )
    return any(_has_threshold(part) for part in parts)


def _needs_boundary(rule: Rule) -> bool:
    """Rules with a date threshold or a computed date need a boundary pair."""
    return rule.defer_until is not None or _has_threshold(rule.when)


def _one_day_apart(inside: dict[str, Any], outside: dict[str, Any]) -> bool:
    """Whether two vectors are the same case one day apart: the screening date moves one day
    on, or one date answer moves one day back, and nothing else changes."""
    day_in = date.fromisoformat(inside.get("day", DEFAULT_DAY.isoformat()))
    day_out = date.fromisoformat(outside.get("day", DEFAULT_DAY.isoformat()))
    same = ("base", "unset", "policy")
    if any(inside.get(key) != outside.get(key) for key in same):
        return False
    set_in, set_out = inside.get("set", {}), outside.get("set", {})
    if (day_out - day_in).days == 1:
        return bool(set_in == set_out)
    if day_in != day_out or set_in.keys() != set_out.keys():
        return False
    moved = [key for key in set_in if set_in[key] != set_out[key]]
    if len(moved) != 1:
        return False
    try:
        step = date.fromisoformat(set_in[moved[0]]) - date.fromisoformat(set_out[moved[0]])
    except (TypeError, ValueError):
        return False
    return step.days == 1


def test_every_rule_has_fires_does_not_fire_and_boundary_vectors() -> None:
    """A rule without a firing case, a non-firing case or (with a threshold) a boundary pair
    fails the suite, so a new rule cannot ship untested."""
    kinds: dict[str, set[str]] = {}
    for vector in VECTORS:
        kinds.setdefault(vector["rule"], set()).add(vector["kind"])
    problems = []
    for rule in default_knowledge_base().rules:
        have = kinds.get(rule.id, set())
        needed = {"fires", "does_not_fire"}
        if _needs_boundary(rule):
            needed |= {"boundary_in", "boundary_out"}
        if missing := needed - have:
            problems.append(f"{rule.id}: missing {sorted(missing)}")
        elif _needs_boundary(rule):
            ins = [v for v in VECTORS if v["rule"] == rule.id and v["kind"] == "boundary_in"]
            outs = [v for v in VECTORS if v["rule"] == rule.id and v["kind"] == "boundary_out"]
            if not any(_one_day_apart(i, o) for i in ins for o in outs):
                problems.append(f"{rule.id}: no boundary pair one day apart (last in, first out)")
    kb = default_knowledge_base()
    checks = {c.id for c in kb.consistency_checks} | {
        f"answer_where_not_asked_{q.id}" for q in kb.questions if q.applies_when is not None
    }
    unknown = set(kinds) - {r.id for r in kb.rules} - checks
    assert not problems, problems
    assert not unknown, f"vectors for rules that do not exist: {sorted(unknown)}"


def test_a_boundary_pair_must_be_the_same_case_one_day_apart() -> None:
    """The meta-test accepts last-day-in/first-day-out pairs only: by screening date or by one
    date answer, with nothing else changed."""
    base = {"base": "female", "set": {"recently_weaned": "yes", "weaned_on": "2026-08-25"}}
    by_day = ({**base, "day": "2026-11-24"}, {**base, "day": "2026-11-25"})
    by_answer = (base, {"base": "female", "set": {"recently_weaned": "yes",
                                                  "weaned_on": "2026-08-24"}})  # fmt: skip
    assert _one_day_apart(*by_day)
    assert _one_day_apart(*by_answer)
    assert not _one_day_apart(by_day[1], by_day[0])  # out before in
    assert not _one_day_apart({**base, "day": "2026-11-23"}, by_day[1])  # two days
    assert not _one_day_apart(by_day[0], {**by_day[1], "base": "male"})  # another case
    assert not _one_day_apart(base, {**base, "set": {"recently_weaned": "no",
                                                     "weaned_on": "2026-08-24"}})  # fmt: skip


def test_every_consistency_check_has_a_contradictory_vector() -> None:
    """A check of contradictory answers cannot ship without a case that triggers it."""
    covered = {v["rule"] for v in VECTORS if v["kind"] == "contradictory"}
    checks = {c.id for c in default_knowledge_base().consistency_checks}
    assert checks <= covered, sorted(checks - covered)
