"""Outcome measures: density from a count, refusals that name the field, corrections and trends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from mesoscreen.domain.errors import InputError
from mesoscreen.domain.outcomes import Measurements, current_measures, density_per_cm2, trends
from mesoscreen.domain.records import OutcomeMeasure
from mesoscreen.knowledge.outcome_scales_loader import default_outcome_scales

SCALES = default_outcome_scales()
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def _measure(n: int, day: date, **values: object) -> OutcomeMeasure:
    fields: dict[str, object] = {"hair_count": None, "area_cm2": None, "density_per_cm2": None,
                                 "shaft_thickness_um": None, "self_assessment": None}  # fmt: skip
    fields.update(values)
    return OutcomeMeasure(
        id=f"m{n}", clinic_id="c", patient_id="p", session_id=None, measured_on=day, note=None,
        replaces_id=None, created_by="u", created_at=T0 + timedelta(minutes=n),
        **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def test_density_is_the_count_divided_by_the_area() -> None:
    """150 hairs counted in 0.8 cm² is 187.5 hairs/cm²."""
    assert density_per_cm2(SCALES, Measurements(hair_count=150, area_cm2=0.8)) == 187.5


def test_no_density_without_a_count() -> None:
    """A thickness alone is a measure; it has no density."""
    assert density_per_cm2(SCALES, Measurements(shaft_thickness_um=62.0)) is None


@pytest.mark.parametrize(
    ("measured", "field"),
    [
        (Measurements(), "at least one"),
        (Measurements(hair_count=120), "area_cm2"),
        (Measurements(area_cm2=1.0, self_assessment=1), "area_cm2"),
        (Measurements(hair_count=-1, area_cm2=1.0), "hair_count"),
        (Measurements(hair_count=100, area_cm2=0.1), "area_cm2"),
        (Measurements(shaft_thickness_um=900.0), "shaft_thickness_um"),
        (Measurements(self_assessment=4), "self_assessment"),
        (Measurements(self_assessment=-4), "self_assessment"),
        (Measurements(hair_count=2000, area_cm2=1.0), "density_per_cm2"),
    ],
    ids=["nothing", "count-without-area", "area-without-count", "negative-count", "tiny-area",
         "thickness-typo", "assessment-above", "assessment-below", "implausible-density"],
)  # fmt: skip
def test_a_measurement_out_of_its_scale_is_refused_naming_the_field(
    measured: Measurements, field: str
) -> None:
    """The message names the field that is wrong."""
    with pytest.raises(InputError, match=field):
        density_per_cm2(SCALES, measured)


def test_the_scale_limits_themselves_are_accepted() -> None:
    """Both ends of every range are valid values (boundary pair with the refusals above)."""
    assert (
        density_per_cm2(SCALES, Measurements(self_assessment=-3, shaft_thickness_um=10.0)) is None
    )
    assert (
        density_per_cm2(SCALES, Measurements(self_assessment=3, shaft_thickness_um=200.0)) is None
    )
    assert density_per_cm2(SCALES, Measurements(hair_count=0, area_cm2=0.25)) == 0.0


def test_a_correction_replaces_the_measure_it_names() -> None:
    """The corrected measure leaves the list; the correction takes its place by date."""
    first = _measure(1, date(2026, 9, 1), hair_count=120, area_cm2=1.0, density_per_cm2=120.0)
    typo = _measure(2, date(2026, 10, 1), hair_count=1400, area_cm2=1.0, density_per_cm2=1400.0)
    fixed = replace(
        _measure(3, date(2026, 10, 1), hair_count=140, area_cm2=1.0, density_per_cm2=140.0),
        replaces_id="m2",
    )
    assert [m.id for m in current_measures([fixed, typo, first])] == ["m1", "m3"]


def test_trends_follow_the_dates_and_report_the_change() -> None:
    """Each trended measure is listed oldest first; the change is last minus first."""
    measures = [
        _measure(2, date(2026, 10, 15), density_per_cm2=150.0, self_assessment=1),
        _measure(1, date(2026, 9, 1), density_per_cm2=120.0, shaft_thickness_um=55.0),
        _measure(3, date(2026, 11, 20), density_per_cm2=171.5, self_assessment=2),
    ]
    found = {t.measure.id: t for t in trends(SCALES, measures)}
    assert [p.value for p in found["density_per_cm2"].points] == [120.0, 150.0, 171.5]
    assert found["density_per_cm2"].change == 51.5
    assert found["shaft_thickness_um"].change is None  # one value: no change to report
    assert [p.on for p in found["self_assessment"].points] == [
        date(2026, 10, 15), date(2026, 11, 20)
    ]  # fmt: skip
    assert list(found) == ["density_per_cm2", "shaft_thickness_um", "self_assessment"]


def test_a_measure_with_no_value_draws_no_trend() -> None:
    """Without any thickness recorded there is no thickness chart."""
    only_counts = [_measure(1, date(2026, 9, 1), density_per_cm2=120.0)]
    assert [t.measure.id for t in trends(SCALES, only_counts)] == ["density_per_cm2"]
