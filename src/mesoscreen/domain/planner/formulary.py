"""The formulary: injectable products, their dosing and schedules, each figure with its source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.knowledge_base import Text


class Technique(StrEnum):
    """How the product is injected."""

    POINT_BY_POINT = "point_by_point"
    NAPPAGE = "nappage"


@dataclass(frozen=True, slots=True)
class Schedule:
    """Induction sessions (weeks from the first) then maintenance every N weeks."""

    induction_weeks: tuple[int, ...]
    maintenance_interval_weeks: int
    maintenance_sessions: int

    def session_dates(self, first: date) -> list[tuple[int, str, date]]:
        """(number, phase, date) of every session from ``first``."""
        sessions = [
            (n, "induction", first + timedelta(weeks=week))
            for n, week in enumerate(self.induction_weeks, start=1)
        ]
        last = sessions[-1][2] if sessions else first
        for k in range(1, self.maintenance_sessions + 1):
            day = last + timedelta(weeks=k * self.maintenance_interval_weeks)
            sessions.append((len(sessions) + 1, "maintenance", day))
        return sessions


@dataclass(frozen=True, slots=True)
class Product:
    """An injectable preparation of the formulary."""

    id: str
    name: Text
    ingredients: tuple[str, ...]
    concentration: str
    technique: Technique
    needle: str
    depth_mm: tuple[float, float]
    volume_per_point_ml: float
    max_volume_per_session_ml: float
    schedule: Schedule
    sources: Mapping[str, str]

    def session_volume_ml(self, points: int) -> float:
        """The volume one session over ``points`` injects; PlanError over the session maximum."""
        total = round(points * self.volume_per_point_ml, 4)
        if total > self.max_volume_per_session_ml:
            raise PlanError(
                f"'volume': {points} points x {self.volume_per_point_ml:g} mL = {total:g} mL is "
                f"over the session maximum of {self.max_volume_per_session_ml:g} mL for "
                f"{self.id}; treat fewer zones, widen the spacing or lower the volume per point"
            )
        return total


@dataclass(frozen=True, slots=True)
class Formulary:
    """The products a clinic may plan with; an example formulary must be reviewed before use."""

    products: Mapping[str, Product]
    review_required: bool
    notice: Text

    def find(self, name: str) -> Product:
        """The product with id ``name``, or the one product containing ingredient ``name``."""
        if name in self.products:
            return self.products[name]
        holders = [p for p in self.products.values() if name in p.ingredients]
        if len(holders) == 1:
            return holders[0]
        known = ", ".join(self.products)
        if holders:
            ids = ", ".join(p.id for p in holders)
            raise PlanError(f"'ingredient': {name!r} is in several products ({ids}); name one")
        raise PlanError(
            f"'ingredient': unknown product or ingredient {name!r} (expected one of: {known})"
        )
