"""Doses in active substance: a product's concentration, the caps a session stays within, and
the figures of one session (volume in mL, dose in mg or IU, depth in mm).

A product with one active substance states its amount per mL (``0.1 mg/mL``); a ready-to-use
mixture states what is known instead and carries no dose cap, so only its volume caps apply.
Every cap carries a short reference to its source (a clinical-facts section, or "no source:
clinic practice"), which refusals quote beside the figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.reasons import Problem, Reason, problem


class DoseUnit(StrEnum):
    """The unit an amount of active substance is counted in."""

    MG = "mg"
    IU = "IU"


@dataclass(frozen=True, slots=True)
class Concentration:
    """How much active substance one mL holds, or, for a mixture, what is known of it."""

    label: str
    amount_per_ml: float | None
    unit: DoseUnit | None
    known: str = ""

    def dose(self, volume_ml: float) -> float | None:
        """The amount of active substance in ``volume_ml`` (None for a mixture)."""
        if self.amount_per_ml is None:
            return None
        return round(volume_ml * self.amount_per_ml, 6)

    def as_dict(self) -> dict[str, object]:
        """JSON form: the label, the amount per mL and its unit (``mg/mL``), what is known."""
        return {
            "label": self.label,
            "amount_per_ml": self.amount_per_ml,
            "unit": f"{self.unit.value}/mL" if self.unit is not None else None,
            "known": self.known,
        }


@dataclass(frozen=True, slots=True)
class Caps:
    """What one session of a product may not exceed; ``dose_per_session`` None for a mixture."""

    volume_per_point_ml: float
    volume_per_session_ml: float
    dose_per_session: float | None
    depth_mm: tuple[float, float]


# The cap fields, as named in refusals, documents and source maps.
CAP_FIELDS = (
    "max_volume_per_point_ml",
    "max_volume_per_session_ml",
    "max_dose_per_session",
    "depth_mm",
)


@dataclass(frozen=True, slots=True)
class SessionDose:
    """The figures of one session: points, volumes, dose in active substance and depth."""

    points: int
    volume_per_point_ml: float
    total_volume_ml: float
    dose_per_point: float | None
    total_dose: float | None
    unit: DoseUnit | None
    depth_mm: tuple[float, float]

    def as_dict(self) -> dict[str, object]:
        """JSON form: volumes in mL, doses in ``unit`` (null for a mixture), depth in mm."""
        return {
            "points": self.points,
            "volume_per_point_ml": self.volume_per_point_ml,
            "total_volume_ml": self.total_volume_ml,
            "dose_per_point": self.dose_per_point,
            "total_dose": self.total_dose,
            "unit": self.unit.value if self.unit is not None else None,
            "depth_mm": list(self.depth_mm),
        }


def _range(low: float, high: float) -> str:
    return f"{low:g}-{high:g} mm"


def _dose_problems(
    fields: list[str],
    product_id: str,
    caps: Caps,
    volume_per_point_ml: float,
    depth_mm: tuple[float, float],
    total_volume: float,
    total_dose: float | None,
    unit: DoseUnit | None,
) -> tuple[Problem, ...]:
    """The reason codes of the refused fields (``session_dose``), with their figures."""
    problems: list[Problem] = []
    for field in fields:
        if field == "volume_per_point_ml" and volume_per_point_ml <= 0:
            problems += problem(Reason.OUT_OF_RANGE, field, low=0,
                                high=caps.volume_per_point_ml, got=volume_per_point_ml,
                                unit="mL")  # fmt: skip
        elif field == "volume_per_point_ml":
            problems += problem(Reason.OVER_PRODUCT_LIMIT, field, got=volume_per_point_ml,
                                most=caps.volume_per_point_ml, unit="mL",
                                product=product_id)  # fmt: skip
        elif field == "depth_mm":
            problems += problem(Reason.DEPTH_OUTSIDE_LIMITS, field, low=caps.depth_mm[0],
                                high=caps.depth_mm[1], product=product_id)  # fmt: skip
        elif field == "total_volume_ml":
            problems += problem(Reason.OVER_PRODUCT_LIMIT, field, got=total_volume,
                                most=caps.volume_per_session_ml, unit="mL",
                                product=product_id)  # fmt: skip
        elif total_dose is not None and caps.dose_per_session is not None:
            problems += problem(Reason.OVER_PRODUCT_LIMIT, field, got=total_dose,
                                most=caps.dose_per_session, unit=unit.value if unit else "",
                                product=product_id)  # fmt: skip
    return tuple(problems)


def session_dose(
    product_id: str,
    concentration: Concentration,
    caps: Caps,
    cap_sources: Mapping[str, str],
    points: int,
    volume_per_point_ml: float,
    depth_mm: tuple[float, float],
) -> SessionDose:
    """The session's figures; PlanError listing every cap it exceeds, with figures and sources.

    The error's ``field`` is the first refused one: ``volume_per_point_ml``, ``depth_mm``,
    ``total_volume_ml`` or ``total_dose``.
    """
    total_volume = round(points * volume_per_point_ml, 6)
    per_point_dose = concentration.dose(volume_per_point_ml)
    total_dose = concentration.dose(total_volume)
    unit = concentration.unit
    refused: list[tuple[str, str]] = []
    if volume_per_point_ml <= 0:
        refused.append(
            ("volume_per_point_ml", f"expected more than 0 mL (got {volume_per_point_ml:g})")
        )
    elif volume_per_point_ml > caps.volume_per_point_ml:
        refused.append((
            "volume_per_point_ml",
            f"{volume_per_point_ml:g} mL is over the maximum of {caps.volume_per_point_ml:g} mL "
            f"per point for {product_id} ({cap_sources['max_volume_per_point_ml']})",
        ))  # fmt: skip
    low, high = depth_mm
    allowed_low, allowed_high = caps.depth_mm
    if not (allowed_low <= low <= high <= allowed_high):
        refused.append((
            "depth_mm",
            f"{_range(low, high)} is outside the permitted {_range(allowed_low, allowed_high)} "
            f"for {product_id} ({cap_sources['depth_mm']})",
        ))  # fmt: skip
    if total_volume > caps.volume_per_session_ml:
        refused.append((
            "total_volume_ml",
            f"{points} points x {volume_per_point_ml:g} mL = {total_volume:g} mL is over the "
            f"session maximum of {caps.volume_per_session_ml:g} mL for {product_id} "
            f"({cap_sources['max_volume_per_session_ml']})",
        ))  # fmt: skip
    if (
        caps.dose_per_session is not None
        and total_dose is not None
        and unit is not None
        and total_dose > caps.dose_per_session
    ):
        refused.append((
            "total_dose",
            f"{points} points x {volume_per_point_ml:g} mL of {concentration.label} = "
            f"{total_dose:g} {unit.value} is over the session maximum of "
            f"{caps.dose_per_session:g} {unit.value} for {product_id} "
            f"({cap_sources['max_dose_per_session']})",
        ))  # fmt: skip
    if refused:
        message = "; ".join(f"'{field}': {problem}" for field, problem in refused)
        if any(field.startswith("total_") for field, _ in refused):
            message += "; treat fewer zones, widen the spacing or lower the volume per point"
        raise PlanError(
            message,
            field=refused[0][0],
            problems=_dose_problems(
                [f for f, _ in refused],
                product_id,
                caps,
                volume_per_point_ml,
                depth_mm,
                total_volume,
                total_dose,
                unit,
            ),
        )
    return SessionDose(
        points=points,
        volume_per_point_ml=volume_per_point_ml,
        total_volume_ml=total_volume,
        dose_per_point=per_point_dose,
        total_dose=total_dose,
        unit=unit,
        depth_mm=depth_mm,
    )
