"""What a screening allows a plan to contain: the safety link between screening and planning."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from mesoscreen.domain.decision import Decision
from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.formulary import Product
from mesoscreen.domain.vocabulary import Outcome


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Why an ingredient is ruled out: the finding and its reason (a tag or an allergen)."""

    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class ScreeningConstraints:
    """The outcome, the actions that must be done, and the ingredients ruled out."""

    outcome: Outcome
    blocking_actions: tuple[str, ...]
    excluded: Mapping[str, Exclusion]

    @classmethod
    def from_decision(cls, decision: Decision) -> ScreeningConstraints:
        """The constraints of a decision object."""
        return cls(
            outcome=decision.outcome,
            blocking_actions=tuple(
                a.action.id for a in decision.required_actions if a.action.blocks_treatment
            ),
            excluded=MappingProxyType(
                {e.ingredient: Exclusion(e.rule, e.reason) for e in decision.excluded_ingredients}
            ),
        )

    @classmethod
    def from_decision_json(cls, document: Mapping[str, Any]) -> ScreeningConstraints:
        """The constraints of a stored or printed decision (``Decision.as_dict()``)."""
        try:
            outcome = Outcome(document["outcome"])
            actions = tuple(
                a["id"]
                for a in document.get("required_actions", [])
                if a.get("blocks_treatment", True)
            )
            excluded = {
                e["ingredient"]: Exclusion(e["rule"], e["reason"])
                for e in document.get("excluded_ingredients", [])
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanError(
                f"'screening': not a decision object ({type(exc).__name__}: {exc})"
            ) from None
        return cls(outcome, actions, MappingProxyType(excluded))

    def check(self, product: Product, completed_actions: Collection[str]) -> None:
        """PlanError unless the screening permits a plan with ``product``, saying why not."""
        if not self.outcome.permits_treatment:
            raise PlanError(
                f"'screening': outcome {self.outcome.value!r} does not permit a treatment plan "
                "(expected eligible, precautions or specialist_clearance)"
            )
        undone = [action for action in self.blocking_actions if action not in completed_actions]
        if undone:
            raise PlanError(
                "'screening': required actions not recorded as done: " + ", ".join(undone)
            )
        refused = [
            f"{ingredient} (excluded by finding '{self.excluded[ingredient].rule}', "
            f"{self.excluded[ingredient].reason})"
            for ingredient in product.ingredients
            if ingredient in self.excluded
        ]
        if refused:
            raise PlanError(f"'ingredient': product {product.id} contains " + "; ".join(refused))
