"""What a screening allows a plan to contain: the safety link between screening and planning.

A plan needs an outcome that permits treatment, every treatment-blocking action recorded as
done, no ingredient the screening excludes (unless the exclusion is lifted by actions that are
all done), and a first session on or after the screening's ``earliest_date``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from mesoscreen.domain.decision import Decision
from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.formulary import Product
from mesoscreen.domain.reasons import Problem, Reason, problem
from mesoscreen.domain.vocabulary import Outcome


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Why an ingredient is ruled out: the finding, its reason (a tag or an allergen), and the
    actions that lift it once all are done (none: the exclusion is unconditional)."""

    rule: str
    reason: str
    lifted_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScreeningConstraints:
    """The outcome, the actions that must be done, the ingredients ruled out, the first date."""

    outcome: Outcome
    blocking_actions: tuple[str, ...]
    excluded: Mapping[str, Exclusion]
    earliest_date: date | None = None

    @classmethod
    def from_decision(cls, decision: Decision) -> ScreeningConstraints:
        """The constraints of a decision object."""
        return cls(
            outcome=decision.outcome,
            blocking_actions=tuple(
                a.action.id for a in decision.required_actions if a.action.blocks_treatment
            ),
            excluded=MappingProxyType(
                {
                    e.ingredient: Exclusion(e.rule, e.reason, tuple(e.lifted_by))
                    for e in decision.excluded_ingredients
                }
            ),
            earliest_date=decision.earliest_date,
        )

    @classmethod
    def from_decision_json(cls, document: Mapping[str, Any]) -> ScreeningConstraints:
        """The constraints of a stored or printed decision (``Decision.as_dict()``)."""
        try:
            outcome = Outcome(document["outcome"])
            actions = tuple(
                str(a["id"])
                for a in document.get("required_actions", [])
                if a.get("blocks_treatment", True)
            )
            excluded = {
                str(e["ingredient"]): Exclusion(
                    str(e["rule"]), str(e["reason"]), tuple(str(a) for a in e.get("lifted_by", ()))
                )
                for e in document.get("excluded_ingredients", [])
            }
            earliest = document.get("earliest_date")
            earliest_date = date.fromisoformat(earliest) if earliest is not None else None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PlanError(
                f"'screening': not a decision object ({type(exc).__name__}: {exc})",
                field="screening",
            ) from None
        return cls(outcome, actions, MappingProxyType(excluded), earliest_date)

    def check(
        self,
        product: Product,
        completed_actions: Collection[str],
        first_session: date | None = None,
    ) -> None:
        """PlanError unless the screening permits a plan with ``product`` from
        ``first_session``, saying why not."""
        if not self.outcome.permits_treatment:
            raise PlanError(
                f"'screening': outcome {self.outcome.value!r} does not permit a treatment plan "
                "(expected eligible, precautions or specialist_clearance)",
                field="screening",
                problems=problem(
                    Reason.OUTCOME_FORBIDS_TREATMENT, "screening", outcome=self.outcome.value
                ),
            )
        undone = [action for action in self.blocking_actions if action not in completed_actions]
        if undone:
            raise PlanError(
                "'screening': required actions not recorded as done: " + ", ".join(undone),
                field="screening",
                problems=problem(Reason.ACTIONS_NOT_DONE, "screening", actions=tuple(undone)),
            )
        refused, problems = self._exclusions(product, completed_actions)
        if refused:
            raise PlanError(
                f"'product': {product.id} contains " + "; ".join(refused),
                field="product",
                problems=problems,
            )
        if (
            first_session is not None
            and self.earliest_date is not None
            and first_session < self.earliest_date
        ):
            raise PlanError(
                f"'first_session': {first_session.isoformat()} is before "
                f"{self.earliest_date.isoformat()}, the earliest date the screening allows",
                field="first_session",
                problems=problem(
                    Reason.BEFORE_EARLIEST_DATE,
                    "first_session",
                    got=first_session,
                    earliest=self.earliest_date,
                ),
            )

    def excluded_by(
        self, product: Product, completed_actions: Collection[str]
    ) -> tuple[Problem, ...]:
        """Why the screening rules ``product`` out (its excluded ingredients), or ()."""
        return self._exclusions(product, completed_actions)[1]

    def _exclusions(
        self, product: Product, completed_actions: Collection[str]
    ) -> tuple[list[str], tuple[Problem, ...]]:
        refused: list[str] = []
        problems: tuple[Problem, ...] = ()
        for ingredient in product.ingredients:
            exclusion = self.excluded.get(ingredient)
            if exclusion is None:
                continue
            still_open = [a for a in exclusion.lifted_by if a not in completed_actions]
            if exclusion.lifted_by and not still_open:
                continue
            condition = (
                f"; lifted once done: {', '.join(exclusion.lifted_by)}, "
                f"still open: {', '.join(still_open)}"
                if exclusion.lifted_by
                else ""
            )
            refused.append(
                f"{ingredient} (excluded by finding '{exclusion.rule}', {exclusion.reason}"
                f"{condition})"
            )
            lifted = {"open": tuple(still_open)} if exclusion.lifted_by else {}
            problems += problem(
                Reason.INGREDIENT_EXCLUDED_UNTIL_DONE if lifted else Reason.INGREDIENT_EXCLUDED,
                "product", product=product.id, ingredient=ingredient, finding=exclusion.rule,
                **lifted,
            )  # fmt: skip
        return refused, problems
