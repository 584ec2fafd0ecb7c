"""The head model scales with the patient's measurements."""

from __future__ import annotations

import math

import pytest

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.head import HeadModel, ellipse_perimeter, surface_distance


def test_the_fitted_head_has_the_measured_circumference() -> None:
    """The ellipse at z = 0 has the circumference given."""
    head = HeadModel.from_measurements(57.0)
    assert ellipse_perimeter(head.a, head.b) == pytest.approx(57.0, abs=1e-6)


def test_the_nasion_inion_arc_sets_the_height() -> None:
    """Half the sagittal ellipse's perimeter equals the arc given."""
    head = HeadModel.from_measurements(57.0, nasion_inion_cm=36.0)
    assert ellipse_perimeter(head.b, head.c) / 2 == pytest.approx(36.0, abs=1e-6)


def test_a_larger_head_is_larger_in_every_direction() -> None:
    """Defaults scale with the circumference."""
    small, large = HeadModel.from_measurements(52.0), HeadModel.from_measurements(60.0)
    assert (small.a, small.b, small.c) < (large.a, large.b, large.c)


def test_a_missing_circumference_uses_the_adult_default() -> None:
    """No measurement: a 56 cm adult head."""
    head = HeadModel.from_measurements()
    assert ellipse_perimeter(head.a, head.b) == pytest.approx(56.0, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"circumference_cm": 20.0}, "head_circumference_cm"),
        ({"circumference_cm": 57.0, "nasion_inion_cm": 80.0}, "nasion_inion_cm"),
        ({"circumference_cm": 57.0, "ear_to_ear_cm": 10.0}, "ear_to_ear_cm"),
    ],
)
def test_implausible_measurements_are_refused_by_name(kwargs: dict[str, float], field: str) -> None:
    """Out-of-range values name the measurement."""
    with pytest.raises(PlanError, match=f"'{field}'"):
        HeadModel.from_measurements(**kwargs)


def test_surface_distance_is_the_arc_over_the_chord() -> None:
    """On a sphere of radius 1 a quarter turn is pi/2."""
    assert surface_distance((1, 0, 0), (0, 1, 0), 1.0) == pytest.approx(math.pi / 2)
