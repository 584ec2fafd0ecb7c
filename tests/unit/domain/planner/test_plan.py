"""A plan respects its screening, its formulary's maximum volume and the atlas."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from mesoscreen.domain.decision import Decision
from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.plan import PlanRequest
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import default_atlas, load_formulary
from mesoscreen.services.planning import PlanningService
from mesoscreen.services.screening import ScreeningService
from tests.intakes import intake

KB = default_knowledge_base()
SCREENING = ScreeningService(KB)
PLANNER = PlanningService(default_atlas(), load_formulary(kb=KB))
ON = date(2026, 11, 25)


def _request(**changes: object) -> PlanRequest:
    fields: dict[str, object] = {
        "zones": (),
        "stage": "norwood-3",
        "spacing_cm": 1.0,
        "product": "dutasteride_0_01",
        "first_session": ON,
    }
    fields.update(changes)
    return PlanRequest(**fields)  # type: ignore[arg-type]


def _decision(base: str = "male", **answers: object) -> Decision:
    return SCREENING.screen(intake(base, **answers), ON)


def test_an_eligible_screening_gives_a_checked_plan_with_totals_and_a_calendar() -> None:
    """Points, area, total volume = points x volume per point, sessions from the schedule."""
    plan = PLANNER.plan(_request(), _decision())
    assert plan.screening_checked
    assert len(plan.points) > 50
    assert plan.total_volume_ml == pytest.approx(len(plan.points) * 0.01, abs=0.01)
    assert [s.day for s in plan.sessions][:3] == [ON, date(2026, 12, 2), date(2026, 12, 9)]
    assert {s.phase for s in plan.sessions} == {"induction", "maintenance"}
    assert {z.id for z in plan.zones} == {"frontal", "left_temporal", "right_temporal"}
    assert sum(z.points for z in plan.zones) == len(plan.points)


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        ({"pregnant": "yes"}, "deferred"),
        ({"cancer_history": "yes"}, "contraindicated"),
        ({"clotting_disorder": "unknown"}, "incomplete"),
    ],
)
def test_a_screening_that_does_not_permit_treatment_refuses_the_plan(
    answers: dict[str, str], outcome: str
) -> None:
    """Deferred, contraindicated and incomplete screenings allow no plan, and say so."""
    decision = _decision("female", **answers)
    with pytest.raises(PlanError, match=f"outcome '{outcome}' does not permit a treatment plan"):
        PLANNER.plan(_request(), decision)


def test_specialist_clearance_needs_every_blocking_action_recorded_as_done() -> None:
    """The refusal names the actions still undone; with them done the plan is made."""
    decision = _decision(cardiovascular_disease="yes", cardiovascular_stable="yes")
    with pytest.raises(PlanError, match="not recorded as done: cardiologist_clearance"):
        PLANNER.plan(_request(), decision)
    done = ("cardiologist_clearance", "dermatologist_supervision")
    assert PLANNER.plan(_request(), decision, done).screening_checked


def test_an_excluded_ingredient_is_refused_naming_the_finding_that_excludes_it() -> None:
    """Minoxidil, a vasodilator, cannot be planned for stable heart disease."""
    decision = _decision(cardiovascular_disease="yes", cardiovascular_stable="yes")
    done = ("cardiologist_clearance", "dermatologist_supervision")
    with pytest.raises(
        PlanError,
        match=r"minoxidil \(excluded by finding 'cardiovascular_managed', tag:vasodilator",
    ):
        PLANNER.plan(_request(product="minoxidil_0_5"), decision, done)


def test_an_allergen_is_refused_only_in_a_product_that_contains_it() -> None:
    """A lidocaine allergy leaves a lidocaine-free product plannable once tested."""
    decision = _decision(allergy_history="yes", allergens=["lidocaine"])
    plan = PLANNER.plan(_request(), decision, ("allergy_assessment_and_test",))
    assert plan.product.id == "dutasteride_0_01"


def test_the_stored_json_form_of_a_decision_constrains_like_the_object() -> None:
    """A decision read back from the database refuses the same product."""
    decision = _decision(cardiovascular_disease="yes", cardiovascular_stable="yes")
    stored = decision.as_dict()
    done = ("cardiologist_clearance", "dermatologist_supervision")
    with pytest.raises(PlanError, match="minoxidil"):
        PLANNER.plan(_request(product="minoxidil_0_5"), stored, done)


def test_a_malformed_stored_decision_is_refused_clearly() -> None:
    """Not a decision object: the message names 'screening'."""
    with pytest.raises(PlanError, match="'screening': not a decision object"):
        PLANNER.plan(_request(), {"outcome": "maybe"})


def test_a_plan_over_the_session_maximum_is_refused_with_the_figures() -> None:
    """Dutasteride's 2 mL maximum at 0.01 mL a point caps a session at 200 points."""
    with pytest.raises(
        PlanError,
        match=r"'total_volume_ml': 1286 points x 0.01 mL = 12.86 mL is over the "
        r"session maximum of 2 mL for dutasteride_0_01 \(B10\)",
    ) as refused:
        PLANNER.plan(_request(stage="norwood-7", spacing_cm=0.5), _decision())
    assert refused.value.field == "total_volume_ml"
    assert "'total_dose': 1286 points x 0.01 mL of 0.01% = 1.286 mg is over" in str(refused.value)


def test_the_plan_states_its_dose_in_mg_and_ml_per_point_and_per_session() -> None:
    """0.01% dutasteride is 0.1 mg/mL: 0.001 mg a point, points x 0.001 mg a session."""
    plan = PLANNER.plan(_request(), _decision())
    points = len(plan.points)
    assert plan.dose.unit is not None
    assert plan.dose.unit.value == "mg"
    assert plan.dose.dose_per_point == pytest.approx(0.001)
    assert plan.dose.total_dose == pytest.approx(points * 0.001)
    document = plan.as_dict()
    assert document["dose"] == {
        "points": points, "volume_per_point_ml": 0.01, "total_volume_ml": plan.total_volume_ml,
        "dose_per_point": 0.001, "total_dose": plan.dose.total_dose, "unit": "mg",
        "depth_mm": [1.5, 2.0],
    }  # fmt: skip
    assert document["product"]["concentration"]["unit"] == "mg/mL"
    assert document["product"]["max_dose_per_session"] == {"amount": 0.5, "unit": "mg"}
    assert {p["dose"] for p in document["points"]} == {0.001}


def test_minoxidil_is_capped_at_five_mg_a_session_by_clinic_practice() -> None:
    """0.5% is 5 mg/mL: at 0.01 mL a point, 101 or more points exceed 5 mg, and the refusal
    says the cap has no published source."""
    decision = _decision()
    small = PLANNER.plan(_request(stage="norwood-1", product="minoxidil_0_5"), decision)
    assert small.dose.total_dose is not None
    assert small.dose.total_dose <= 5.0
    with pytest.raises(PlanError, match=r"'total_volume_ml'.*'total_dose': \d+ points x 0.01 mL "
                       r"of 0.5% = [\d.]+ mg is over the session maximum of 5 mg for "
                       r"minoxidil_0_5 \(no source: clinic practice\)"):  # fmt: skip
        PLANNER.plan(_request(product="minoxidil_0_5"), decision)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"volume_per_point_ml": 0.5}, "volume_per_point_ml",
         "0.5 mL is over the maximum of 0.1 mL per point for dutasteride_0_01 (B5)"),
        ({"depth_mm": (8.0, 9.5)}, "depth_mm",
         "8-9.5 mm is outside the permitted 1.5-2 mm for dutasteride_0_01 (B3)"),
        ({"depth_mm": (1.0, 2.0)}, "depth_mm", "1-2 mm is outside the permitted 1.5-2 mm"),
        ({"depth_mm": (2.0, 1.5)}, "depth_mm", "2-1.5 mm is outside"),
        ({"volume_per_point_ml": 0.0}, "volume_per_point_ml", "expected more than 0 mL"),
    ],
)  # fmt: skip
def test_a_request_over_a_per_point_or_depth_cap_is_refused_naming_the_field(
    changes: dict[str, object], field: str, message: str
) -> None:
    """The clinician may lower the volume or narrow the depth, never pass the product's caps."""
    with pytest.raises(PlanError) as refused:
        PLANNER.plan(_request(stage="norwood-1", **changes), _decision())
    assert refused.value.field == field
    assert message in str(refused.value)


def test_a_narrower_depth_and_a_smaller_volume_per_point_are_planned() -> None:
    """Within the caps the request's own figures are used, in the plan and its dose."""
    plan = PLANNER.plan(_request(volume_per_point_ml=0.005, depth_mm=(1.5, 1.8)), _decision())
    assert plan.dose.volume_per_point_ml == 0.005
    assert plan.dose.depth_mm == (1.5, 1.8)
    assert plan.total_volume_ml == pytest.approx(len(plan.points) * 0.005)


def test_a_first_session_before_the_earliest_date_is_refused() -> None:
    """No plan starts before the decision's earliest date; from that date it is made."""
    earliest = ON + timedelta(days=30)
    decision = replace(_decision(), earliest_date=earliest)
    with pytest.raises(PlanError, match=r"'first_session': .* is before") as refused:
        PLANNER.plan(_request(first_session=earliest - timedelta(days=1)), decision)
    assert refused.value.field == "first_session"
    assert PLANNER.plan(_request(first_session=earliest), decision).screening_checked
    stored = decision.as_dict()
    with pytest.raises(PlanError, match="is before"):
        PLANNER.plan(_request(first_session=ON), stored)
