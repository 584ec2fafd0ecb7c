"""The planning use case: a treatment plan from a request, checked against a screening."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

from mesoscreen.domain.decision import Decision
from mesoscreen.domain.planner.formulary import Formulary
from mesoscreen.domain.planner.plan import (
    PlannedTreatment,
    PlanRequest,
    lay_out_geometry,
    plan_treatment,
)
from mesoscreen.domain.planner.safety import ScreeningConstraints
from mesoscreen.domain.planner.zones import ScalpAtlas

# Layouts kept per service: the plan gate makes a stored plan again at every check (sign,
# session, page), and the layout is the costly, deterministic part of a plan.
LAYOUT_CACHE_SIZE = 64


class PlanningService:
    """Makes plans with one scalp atlas and one formulary."""

    def __init__(self, atlas: ScalpAtlas, formulary: Formulary) -> None:
        self.atlas = atlas
        self.formulary = formulary
        self._geometry = lru_cache(maxsize=LAYOUT_CACHE_SIZE)(lay_out_geometry)

    def plan(
        self,
        request: PlanRequest,
        screening: Decision | Mapping[str, Any] | None,
        completed_actions: Collection[str] = (),
    ) -> PlannedTreatment:
        """The plan for ``request``; PlanError if the request, a cap or the screening forbids it.

        ``screening`` is a decision object or its JSON form (as stored); without one the plan
        is made but marked as not checked against a screening.
        """
        product = self.formulary.find(request.product)
        if screening is None:
            constraints = None
        elif isinstance(screening, Decision):
            constraints = ScreeningConstraints.from_decision(screening)
        else:
            constraints = ScreeningConstraints.from_decision_json(screening)
        return plan_treatment(
            request,
            self.atlas,
            product,
            constraints,
            completed_actions,
            formulary_hash=self.formulary.content_hash,
            geometry=self._geometry,
        )
