"""Injection points at the set spacing on the head surface, inside their zones."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.head import HeadModel, surface_distance
from mesoscreen.domain.planner.layout import InjectionPoint, lay_out_points, spacing_statistics
from mesoscreen.knowledge.planning_loader import default_atlas

ATLAS = default_atlas()
HEAD = HeadModel.from_measurements(57.0)


@pytest.mark.parametrize("zone_id", list(ATLAS.zones))
@pytest.mark.parametrize("spacing", [0.5, 1.0])
def test_every_zone_gets_about_area_over_spacing_squared_points(
    zone_id: str, spacing: float
) -> None:
    """Points x spacing^2 is within 10% of the zone's area (square packing, factor 1)."""
    zone = ATLAS.zones[zone_id]
    points = lay_out_points(HEAD, [zone], spacing)
    assert len(points) * spacing**2 / zone.area_cm2(HEAD) == pytest.approx(1.0, abs=0.1)
    assert {p.zone for p in points} == {zone_id}


@pytest.mark.parametrize("stage", list(ATLAS.stages))
@pytest.mark.parametrize("spacing", [0.5, 1.0, 1.5, 2.0])
def test_neighbours_stay_within_ten_percent_of_the_spacing_on_the_surface(
    stage: str, spacing: float
) -> None:
    """Every point's nearest neighbour, measured on the head, is within 10% of the target."""
    points = lay_out_points(HEAD, ATLAS.resolve((), stage), spacing)
    stats = spacing_statistics(points, HEAD, spacing)
    assert 0.9 * spacing <= stats.minimum_cm
    assert stats.maximum_cm <= 1.1 * spacing


def test_the_flat_drawing_and_the_head_differ_and_the_head_wins() -> None:
    """Down the sloping forehead, rings 1 cm apart on the head look closer from above."""
    points = lay_out_points(HEAD, [ATLAS.zones["frontal"]], 1.0)
    front: dict[int, InjectionPoint] = {}
    for point in points:
        if point.ring not in front or abs(point.phi) < abs(front[point.ring].phi):
            front[point.ring] = point
    rings = sorted(front)
    upper, lower = front[rings[-2]], front[rings[-1]]
    on_head = surface_distance(upper.position, lower.position, HEAD.mean_radius)
    from_above = ((upper.x - lower.x) ** 2 + (upper.y - lower.y) ** 2) ** 0.5
    assert on_head == pytest.approx(1.0, abs=0.1)
    assert from_above < 0.8 * on_head


@settings(max_examples=25, deadline=None)
@given(
    st.floats(0.5, 2.0),
    st.floats(50.0, 62.0),
    st.lists(st.sampled_from(list(ATLAS.zones)), min_size=1, max_size=3, unique=True),
)
# Found by hypothesis: a point a hair below mid-scalp's edge (theta 40) was recorded as 40.0.
@example(0.6418969661269489, 57.0, ["mid_scalp"])
def test_points_lie_inside_their_zone_at_the_set_spacing(
    spacing: float, circumference: float, zone_ids: list[str]
) -> None:
    """Whatever the head, zones and spacing: each point is in the zone it names."""
    head = HeadModel.from_measurements(circumference)
    zones = [ATLAS.zones[z] for z in zone_ids]
    points = lay_out_points(head, zones, spacing)
    for point in points:
        assert ATLAS.zones[point.zone].contains(point.theta, point.phi)
    if len(points) > 1:
        stats = spacing_statistics(points, head, spacing)
        assert stats.maximum_cm <= 1.1 * spacing


def test_the_same_request_gives_the_same_points() -> None:
    """The planner is deterministic."""
    zones = ATLAS.resolve(("vertex",), "norwood-3")
    assert lay_out_points(HEAD, zones, 1.0) == lay_out_points(HEAD, zones, 1.0)


@pytest.mark.parametrize("spacing", [0.4, 2.1])
def test_a_spacing_outside_half_to_two_centimetres_is_refused(spacing: float) -> None:
    """Allowed spacings are 0.5 to 2.0 cm."""
    with pytest.raises(PlanError, match="'spacing_cm'"):
        lay_out_points(HEAD, [ATLAS.zones["vertex"]], spacing)
