"""The screening's constraints on a plan: outcome, actions, exclusions (conditional ones too)
and the earliest date."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

import pytest

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.safety import Exclusion, ScreeningConstraints
from mesoscreen.domain.vocabulary import Outcome
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import default_formulary

DUTASTERIDE = default_formulary(default_knowledge_base()).products["dutasteride_0_01"]
LIFTING = ("pregnancy_test_negative", "contraception_confirmed")


def _constraints(lifted_by: tuple[str, ...] = LIFTING) -> ScreeningConstraints:
    exclusion = Exclusion("pregnancy_potential", "tag:antiandrogen", lifted_by)
    return ScreeningConstraints(
        Outcome.PRECAUTIONS, (), MappingProxyType({"dutasteride": exclusion})
    )


def test_a_conditional_exclusion_holds_until_every_lifting_action_is_done() -> None:
    """The refusal names the ingredient, the finding, the reason and the actions still open."""
    with pytest.raises(PlanError) as refused:
        _constraints().check(DUTASTERIDE, ("pregnancy_test_negative",))
    message = str(refused.value)
    assert refused.value.field == "product"
    for part in ("dutasteride", "'pregnancy_potential'", "tag:antiandrogen",
                 "still open: contraception_confirmed"):  # fmt: skip
        assert part in message
    _constraints().check(DUTASTERIDE, LIFTING)


def test_an_unconditional_exclusion_is_never_lifted_by_actions() -> None:
    """Empty ``lifted_by``: no set of completed actions makes the ingredient plannable."""
    with pytest.raises(PlanError, match="excluded by finding 'pregnancy_potential'"):
        _constraints(()).check(DUTASTERIDE, (*LIFTING, "anything_else"))


def test_the_stored_decision_form_carries_lifted_by_and_the_earliest_date() -> None:
    """``from_decision_json`` reads what ``Decision.as_dict`` writes for both."""
    document = {
        "outcome": "precautions",
        "earliest_date": "2027-01-15",
        "required_actions": [],
        "excluded_ingredients": [
            {
                "ingredient": "dutasteride",
                "rule": "r",
                "reason": "tag:x",
                "lifted_by": list(LIFTING),
            }
        ],
    }
    constraints = ScreeningConstraints.from_decision_json(document)
    assert constraints.excluded["dutasteride"].lifted_by == LIFTING
    assert constraints.earliest_date == date(2027, 1, 15)
    with pytest.raises(PlanError, match="'first_session': 2027-01-14 is before 2027-01-15"):
        constraints.check(DUTASTERIDE, LIFTING, date(2027, 1, 14))
    constraints.check(DUTASTERIDE, LIFTING, date(2027, 1, 15))


@pytest.mark.parametrize(
    "document",
    [
        {"outcome": "eligible", "earliest_date": "soon"},
        {"outcome": "eligible", "excluded_ingredients": [{"ingredient": "x"}]},
        {"outcome": "eligible", "required_actions": ["not an object"]},
        {"findings": []},
    ],
)
def test_a_malformed_decision_is_refused_naming_the_screening(document: dict[str, object]) -> None:
    """Never another exception: a PlanError whose field is 'screening'."""
    with pytest.raises(PlanError) as refused:
        ScreeningConstraints.from_decision_json(document)
    assert refused.value.field == "screening"
