"""No plan is ever made over a cap: whatever is asked, the planner refuses or stays within."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.plan import PlanRequest
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import default_atlas, default_formulary
from mesoscreen.services.planning import PlanningService

FORMULARY = default_formulary(default_knowledge_base())
PLANNER = PlanningService(default_atlas(), FORMULARY)
ZONES = sorted(default_atlas().zones)

requests = st.builds(
    PlanRequest,
    zones=st.lists(st.sampled_from(ZONES), max_size=3, unique=True).map(tuple),
    stage=st.none() | st.sampled_from(sorted(default_atlas().stages)),
    spacing_cm=st.sampled_from([0.5, 0.8, 1.0, 1.5, 2.0]),
    product=st.sampled_from(sorted(FORMULARY.products)),
    first_session=st.just(date(2026, 12, 1)),
    volume_per_point_ml=st.none() | st.floats(0.0, 0.3, allow_nan=False),
    depth_mm=st.none() | st.tuples(st.floats(0.0, 10.0), st.floats(0.0, 10.0)),
)


@settings(max_examples=60, deadline=None)
@given(requests)
def test_a_plan_is_refused_or_within_every_cap_of_its_product(request: PlanRequest) -> None:
    """Volume per point and per session, dose per session and depth: never over."""
    try:
        plan = PLANNER.plan(request, None)
    except PlanError as refused:
        refused_field = refused.field
        assert refused_field is not None, "every refusal names its field"
        return
    caps, dose = plan.product.caps, plan.dose
    assert 0 < dose.volume_per_point_ml <= caps.volume_per_point_ml
    assert dose.total_volume_ml <= caps.volume_per_session_ml
    assert caps.depth_mm[0] <= dose.depth_mm[0] <= dose.depth_mm[1] <= caps.depth_mm[1]
    if caps.dose_per_session is not None:
        assert dose.total_dose is not None
        assert dose.total_dose <= caps.dose_per_session
    assert dose.total_volume_ml == round(len(plan.points) * dose.volume_per_point_ml, 6)
