"""A plan respects its screening, its formulary's maximum volume and the atlas."""

from __future__ import annotations

from datetime import date

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
    with pytest.raises(PlanError, match=r"'volume'.*over the session maximum of 2 mL"):
        PLANNER.plan(_request(stage="norwood-7", spacing_cm=0.5), _decision())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stage": "norwood-9"}, "'stage': unknown stage 'norwood-9'"),
        ({"stage": None, "zones": ("crown",)}, "'zones': unknown zone 'crown'"),
        ({"stage": None}, "'zones': no zone chosen"),
        ({"product": "snake_oil"}, "snake_oil"),
        ({"spacing_cm": 2.5}, "spacing"),
        ({"spacing_cm": 0.4}, "spacing"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    changes: dict[str, object], message: str
) -> None:
    """Unknown stage, zone or product, and spacing outside 0.5-2.0 cm."""
    with pytest.raises(PlanError, match=message):
        PLANNER.plan(_request(**changes), _decision())


def test_a_stage_plus_named_zones_treats_each_zone_once() -> None:
    """The clinician can add zones to a stage's defaults."""
    plan = PLANNER.plan(_request(stage="norwood-1", zones=("vertex", "frontal")), _decision())
    assert [z.id for z in plan.zones] == ["frontal", "vertex"]


def test_without_a_screening_the_plan_says_it_was_not_checked() -> None:
    """Planning before screening is allowed for drafting but marked."""
    plan = PLANNER.plan(_request(), None)
    assert not plan.screening_checked
    assert plan.as_dict()["screening_checked"] is False
