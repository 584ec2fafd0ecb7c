"""The formulary: injectable products, their dosing and schedules, each figure with its source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.knowledge_base import Text
from mesoscreen.domain.planner.doses import Caps, Concentration, SessionDose, session_dose
from mesoscreen.domain.reasons import Reason, problem


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
    """An injectable preparation of the formulary, its concentration and its caps.

    ``depth_mm`` is the permitted depth range (a plan may narrow it); ``volume_per_point_ml``
    is the default volume per point. ``sources`` holds each figure's full citation text;
    ``source_refs`` the short reference refusals quote ("B10", "no source: clinic practice").
    """

    id: str
    name: Text
    ingredients: tuple[str, ...]
    concentration: Concentration
    technique: Technique
    needle: str
    volume_per_point_ml: float
    caps: Caps
    schedule: Schedule
    sources: Mapping[str, str]
    source_refs: Mapping[str, str]

    @property
    def depth_mm(self) -> tuple[float, float]:
        """The permitted depth range in mm."""
        return self.caps.depth_mm

    @property
    def max_volume_per_session_ml(self) -> float:
        """The session's volume cap in mL."""
        return self.caps.volume_per_session_ml

    def session(
        self,
        points: int,
        volume_per_point_ml: float | None = None,
        depth_mm: tuple[float, float] | None = None,
    ) -> SessionDose:
        """One session over ``points``; PlanError naming every cap it exceeds, with figures."""
        return session_dose(
            self.id,
            self.concentration,
            self.caps,
            self.source_refs,
            points,
            self.volume_per_point_ml if volume_per_point_ml is None else volume_per_point_ml,
            self.caps.depth_mm if depth_mm is None else depth_mm,
        )

    def as_dict(self) -> dict[str, object]:
        """JSON form: every figure with its unit, the caps, and the source of each figure."""
        unit = self.concentration.unit
        return {
            "id": self.id,
            "name": self.name.as_dict(),
            "ingredients": list(self.ingredients),
            "concentration": self.concentration.as_dict(),
            "technique": self.technique.value,
            "needle": self.needle,
            "depth_mm": list(self.caps.depth_mm),
            "volume_per_point_ml": self.volume_per_point_ml,
            "max_volume_per_point_ml": self.caps.volume_per_point_ml,
            "max_volume_per_session_ml": self.caps.volume_per_session_ml,
            "max_dose_per_session": (
                None
                if self.caps.dose_per_session is None or unit is None
                else {"amount": self.caps.dose_per_session, "unit": unit.value}
            ),
            "sources": dict(self.sources),
        }


@dataclass(frozen=True, slots=True)
class Formulary:
    """The products a clinic may plan with; an example formulary must be reviewed before use."""

    products: Mapping[str, Product]
    review_required: bool
    notice: Text
    content_hash: str = ""

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
            raise PlanError(
                f"'product': {name!r} is in several products ({ids}); name one",
                field="product",
                problems=problem(Reason.AMBIGUOUS_PRODUCT, "product"),
            )
        raise PlanError(
            f"'product': unknown product or ingredient {name!r} (expected one of: {known})",
            field="product",
            problems=problem(Reason.UNKNOWN_PRODUCT, "product"),
        )
