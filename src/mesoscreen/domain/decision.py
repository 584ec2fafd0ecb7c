"""The screening decision and its parts: findings, required actions, excluded ingredients."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from mesoscreen.domain.conditions import FactValue
from mesoscreen.domain.knowledge_base import Action, Alternative, Citation, Reading, Text
from mesoscreen.domain.policy import Policy
from mesoscreen.domain.vocabulary import Category, Outcome


def _fact_json(value: FactValue) -> object:
    """A fact value in JSON form."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _iso(day: date | None) -> str | None:
    """ISO form of an optional date."""
    return day.isoformat() if day is not None else None


@dataclass(frozen=True, slots=True)
class ConflictNote:
    """A source conflict a finding depends on: every reading, and the one the policy chose."""

    conflict: str
    topic: Text
    chosen: str
    readings: tuple[Reading, ...]

    def as_dict(self) -> dict[str, object]:
        """JSON form with each reading's summary and citation."""
        return {
            "conflict": self.conflict,
            "topic": self.topic.as_dict(),
            "chosen": self.chosen,
            "readings": [
                {
                    "id": r.id,
                    "stricter": r.stricter,
                    "summary": r.summary.as_dict(),
                    "citation": r.citation.as_dict(),
                }
                for r in self.readings
            ],
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason for the outcome: the rule that fired, what it forces and its source."""

    rule: str
    category: Category
    outcome: Outcome
    clinician_text: Text
    patient_text: Text
    citation: Citation
    evidence: Mapping[str, FactValue]
    until: date | None = None
    # The earlier date of the lenient reading of a range (shown beside ``until``, never in force).
    lenient_until: date | None = None
    actions: tuple[str, ...] = ()
    excludes_tags: tuple[str, ...] = ()
    conflict: ConflictNote | None = None
    see_also: tuple[Citation, ...] = ()
    error: str | None = None
    # Over the completions of unknown answers (ADR 0011): the answers still to confirm, and
    # the more severe outcome (with its rules) the finding becomes if they are not confirmed.
    to_confirm: tuple[str, ...] = ()
    otherwise: Outcome | None = None
    otherwise_rules: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON form of the finding."""
        return {
            "rule": self.rule,
            "category": self.category.value,
            "outcome": self.outcome.value,
            "clinician_text": self.clinician_text.as_dict(),
            "patient_text": self.patient_text.as_dict(),
            "citation": self.citation.as_dict(),
            "see_also": [c.as_dict() for c in self.see_also],
            "evidence": {k: _fact_json(v) for k, v in self.evidence.items()},
            "until": _iso(self.until),
            "lenient_until": _iso(self.lenient_until),
            "actions": list(self.actions),
            "excludes_tags": list(self.excludes_tags),
            "conflict": self.conflict.as_dict() if self.conflict else None,
            "error": self.error,
            "to_confirm": list(self.to_confirm),
            "otherwise": (
                {"outcome": self.otherwise.value, "rules": list(self.otherwise_rules)}
                if self.otherwise is not None
                else None
            ),
        }


@dataclass(frozen=True, slots=True)
class RequiredAction:
    """A step to take and record before treatment, with the findings that require it."""

    action: Action
    required_by: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """JSON form of the action."""
        return {
            "id": self.action.id,
            "kind": self.action.kind.value,
            "specialty": self.action.specialty,
            "text": self.action.text.as_dict(),
            "blocks_treatment": self.action.blocks_treatment,
            "required_by": list(self.required_by),
        }


@dataclass(frozen=True, slots=True)
class ExcludedIngredient:
    """An ingredient a finding rules out, and why (a risk tag or a named allergen)."""

    ingredient: str
    name: Text
    rule: str
    reason: str
    # Ids of required actions that, once all recorded as done, lift this exclusion;
    # empty means the exclusion is unconditional.
    lifted_by: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON form of the exclusion."""
        return {
            "ingredient": self.ingredient,
            "name": self.name.as_dict(),
            "rule": self.rule,
            "reason": self.reason,
            "lifted_by": list(self.lifted_by),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The screening decision: outcome, reasons with sources, what to do next, provenance."""

    outcome: Outcome
    earliest_date: date | None
    screening_date: date
    findings: tuple[Finding, ...]
    missing: tuple[str, ...]
    required_actions: tuple[RequiredAction, ...]
    excluded_ingredient_tags: tuple[str, ...]
    excluded_ingredients: tuple[ExcludedIngredient, ...]
    unmatched_allergens: tuple[str, ...]
    alternatives: tuple[Alternative, ...]
    knowledge_base_version: str
    knowledge_base_hash: str
    policy: Policy
    # Questions answered although they do not apply, whose answers change nothing.
    not_applicable_answers: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The decision object as JSON-ready data (what ``--json`` prints)."""
        return {
            "outcome": self.outcome.value,
            "earliest_date": _iso(self.earliest_date),
            "screening_date": self.screening_date.isoformat(),
            "findings": [f.as_dict() for f in self.findings],
            "missing": list(self.missing),
            "not_applicable_answers": list(self.not_applicable_answers),
            "required_actions": [a.as_dict() for a in self.required_actions],
            "excluded_ingredient_tags": list(self.excluded_ingredient_tags),
            "excluded_ingredients": [e.as_dict() for e in self.excluded_ingredients],
            "unmatched_allergens": list(self.unmatched_allergens),
            "alternatives": [
                {"id": a.id, "text": a.text.as_dict(), "citation": a.citation.as_dict()}
                for a in self.alternatives
            ],
            "knowledge_base": {
                "version": self.knowledge_base_version,
                "hash": self.knowledge_base_hash,
            },
            "policy": self.policy.as_dict(),
        }

    def as_compact_dict(self) -> dict[str, object]:
        """The decision without its texts, for bulk output: rule ids, dates, sources, provenance.

        Every text can be recovered from the rule ids and the knowledge-base version and hash.
        """
        compact: dict[str, object] = {
            "outcome": self.outcome.value,
            "earliest_date": _iso(self.earliest_date),
            "screening_date": self.screening_date.isoformat(),
            "findings": [
                {
                    "rule": f.rule,
                    "category": f.category.value,
                    "outcome": f.outcome.value,
                    "until": _iso(f.until),
                    "lenient_until": _iso(f.lenient_until),
                    "source": f.citation.source,
                    "to_confirm": list(f.to_confirm),
                    "otherwise": f.otherwise.value if f.otherwise is not None else None,
                    "evidence": {k: _fact_json(v) for k, v in f.evidence.items()},
                }
                for f in self.findings
            ],
            "missing": list(self.missing),
            "not_applicable_answers": list(self.not_applicable_answers),
            "required_actions": [a.action.id for a in self.required_actions],
            "excluded_ingredients": [
                e.ingredient for e in self.excluded_ingredients if not e.lifted_by
            ],
            "knowledge_base": {
                "version": self.knowledge_base_version,
                "hash": self.knowledge_base_hash,
            },
            "policy": {"name": self.policy.name, "hash": self.policy.content_hash},
        }
        conditional = {e.ingredient: list(e.lifted_by) for e in self.excluded_ingredients
                       if e.lifted_by}  # fmt: skip
        if conditional:
            compact["conditionally_excluded"] = conditional
        return compact
