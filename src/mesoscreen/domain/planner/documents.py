"""Stored plan documents: compare one with the plan made again from its request, and read the
figures a page shows without trusting the document's shape.

A plan document is made by the planner and stored as JSON. Before it is signed or used for a
session the plan is made again from the request it carries and the two must agree in every
point, volume, dose, depth and date; ``first_difference`` names where they do not. Pages read
stored documents through ``read_summary``, which refuses a malformed one with a message
instead of failing on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from mesoscreen.domain.comparison import first_difference, shown
from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.reasons import Reason, problem

__all__ = ["PlanSummary", "PlannedSession", "first_difference", "read_summary"]


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """One date of a stored plan's calendar."""

    number: int
    phase: str
    day: date


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """The figures of a stored plan that pages and forms show."""

    point_count: int
    area_cm2: float
    total_volume_ml: float
    volume_per_point_ml: float
    total_dose: float | None
    dose_unit: str | None
    depth_mm: tuple[float, float]
    product_id: str
    product_name: Mapping[str, str]
    concentration: str
    sessions: tuple[PlannedSession, ...]

    def product_name_in(self, language: str) -> str:
        """The product's name in ``language`` (English when that is missing)."""
        return self.product_name.get(language) or self.product_name.get("en", self.product_id)


def _get(document: Mapping[str, Any], field: str, kind: type | tuple[type, ...]) -> Any:
    value: Any = document
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise PlanError(
                f"'document.{field}': missing from the stored plan",
                field=field,
                problems=problem(Reason.PLAN_UNREADABLE, field),
            )
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise PlanError(
            f"'document.{field}': unexpected value {shown(value)}",
            field=field,
            problems=problem(Reason.PLAN_UNREADABLE, field),
        )
    return value


def _sessions(raw: Sequence[Any]) -> tuple[PlannedSession, ...]:
    sessions = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise PlanError(f"'document.sessions[{index}]': not an object", field="sessions")
        try:
            sessions.append(
                PlannedSession(
                    int(entry["number"]), str(entry["phase"]), date.fromisoformat(entry["date"])
                )
            )
        except (KeyError, TypeError, ValueError):
            raise PlanError(
                f"'document.sessions[{index}]': expected number, phase and date",
                field="sessions",
            ) from None
    return tuple(sessions)


def read_summary(document: object) -> PlanSummary:
    """The page figures of a stored document; PlanError naming the first unreadable field."""
    if not isinstance(document, Mapping):
        raise PlanError(
            "'document': not a JSON object",
            field="document",
            problems=problem(Reason.PLAN_UNREADABLE, "document"),
        )
    number = (int, float)
    depth = _get(document, "depth_mm", list)
    if len(depth) != 2 or not all(isinstance(d, number) for d in depth):
        raise PlanError("'document.depth_mm': expected [shallowest, deepest]", field="depth_mm")
    dose = _get(document, "dose", Mapping)
    total_dose = dose.get("total_dose")
    unit = dose.get("unit")
    name = _get(document, "product.name", Mapping)
    return PlanSummary(
        point_count=int(_get(document, "point_count", int)),
        area_cm2=float(_get(document, "area_cm2", number)),
        total_volume_ml=float(_get(document, "total_volume_ml", number)),
        volume_per_point_ml=float(_get(document, "volume_per_point_ml", number)),
        total_dose=float(total_dose) if isinstance(total_dose, number) else None,
        dose_unit=unit if isinstance(unit, str) else None,
        depth_mm=(float(depth[0]), float(depth[1])),
        product_id=str(_get(document, "product.id", str)),
        product_name={k: str(v) for k, v in name.items() if isinstance(v, str)},
        concentration=str(_get(document, "product.concentration.label", str)),
        sessions=_sessions(_get(document, "sessions", list)),
    )
