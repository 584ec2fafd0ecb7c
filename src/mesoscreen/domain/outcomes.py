"""Outcome measures of treatment for hair loss: the scales they are checked against, the
density worked out from a count, and the trend of each measure across sessions.

A hair count is made in a marked target area (usually 1 cm²); density is the count divided
by the area. Shaft thickness is recorded where it was measured, and the patient's own view
on a 7-point scale from -3 (much worse) to +3 (much better).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from mesoscreen.domain.errors import InputError
from mesoscreen.domain.knowledge_base import Text
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import OutcomeMeasure

# The measures a trend is drawn for, in the order a page shows them.
TRENDED = ("density_per_cm2", "shaft_thickness_um", "self_assessment")


@dataclass(frozen=True, slots=True)
class MeasureScale:
    """One measure: its name, unit, the range an entry must fall in and its source."""

    id: str
    name: Text
    unit: str
    minimum: float
    maximum: float
    source: str
    reference: tuple[float, float] | None = None  # a normal range, where one is known
    default: float | None = None
    labels: Mapping[int, Text] | None = None  # the points of an ordinal scale

    def check(self, value: float | None) -> None:
        """Raise InputError naming the field unless ``value`` is absent or in range."""
        if value is not None and not self.minimum <= value <= self.maximum:
            raise InputError(
                f"'{self.id}': expected {self.minimum:g} to {self.maximum:g} {self.unit} "
                f"(got {value:g})",
                problems=problem(
                    Reason.OUT_OF_RANGE,
                    self.id,
                    low=self.minimum,
                    high=self.maximum,
                    got=value,
                    unit=self.unit,
                ),
            )


@dataclass(frozen=True, slots=True)
class OutcomeScales:
    """Every measure's scale, keyed by measure id."""

    measures: Mapping[str, MeasureScale]

    def __getitem__(self, measure_id: str) -> MeasureScale:
        return self.measures[measure_id]


@dataclass(frozen=True, slots=True)
class Measurements:
    """What was measured on one day; any of it may be missing, but not all of it."""

    hair_count: int | None = None
    area_cm2: float | None = None
    shaft_thickness_um: float | None = None
    self_assessment: int | None = None


def density_per_cm2(scales: OutcomeScales, measured: Measurements) -> float | None:
    """Check ``measured`` against ``scales`` and return the density (None without a count).

    A count needs the area it was made in; an area without a count is refused as well, so
    a record never looks as if a count was made when none was.
    """
    if all(
        value is None
        for value in (measured.hair_count, measured.shaft_thickness_um, measured.self_assessment)
    ):
        raise InputError(
            "outcome measure: expected at least one of 'hair_count', 'shaft_thickness_um' "
            "or 'self_assessment' (got none)",
            problems=problem(Reason.MEASURE_NEEDS_A_VALUE),
        )
    if (measured.hair_count is None) != (measured.area_cm2 is None):
        raise InputError(
            "'area_cm2': expected together with 'hair_count' (the count is per target area)",
            problems=problem(Reason.COUNT_NEEDS_AREA, "area_cm2"),
        )
    for measure_id in ("hair_count", "area_cm2", "shaft_thickness_um", "self_assessment"):
        scales[measure_id].check(getattr(measured, measure_id))
    if measured.hair_count is None or measured.area_cm2 is None:
        return None
    density = round(measured.hair_count / measured.area_cm2, 1)
    scales["density_per_cm2"].check(density)
    return density


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One measured value on one day, and the session it belongs to (None for baseline)."""

    on: date
    value: float
    session_id: str | None


@dataclass(frozen=True, slots=True)
class Trend:
    """A measure across sessions, oldest first, with the change since the first value."""

    measure: MeasureScale
    points: tuple[TrendPoint, ...]

    @property
    def change(self) -> float | None:
        """Last value minus first value; None with fewer than two values."""
        if len(self.points) < 2:
            return None
        return round(self.points[-1].value - self.points[0].value, 2)


def current_measures(measures: Iterable[OutcomeMeasure]) -> list[OutcomeMeasure]:
    """The measures no correction has replaced, by date measured and then time recorded."""
    listed = list(measures)
    replaced = {m.replaces_id for m in listed if m.replaces_id is not None}
    kept = [m for m in listed if m.id not in replaced]
    return sorted(kept, key=lambda m: (m.measured_on, m.created_at))


def trends(scales: OutcomeScales, measures: Iterable[OutcomeMeasure]) -> list[Trend]:
    """The trend of each trended measure that has at least one value, in ``TRENDED`` order."""
    kept = current_measures(measures)
    found = []
    for measure_id in TRENDED:
        points = tuple(
            TrendPoint(m.measured_on, float(value), m.session_id)
            for m in kept
            if (value := getattr(m, measure_id)) is not None
        )
        if points:
            found.append(Trend(scales[measure_id], points))
    return found
