"""The Python API for library users."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

import mesoscreen
from tests.intakes import CLEAR_MALE, intake

POLICY = Path(__file__).parents[2] / "examples" / "policies" / "supervised-chronic-disease.yaml"


def test_public_names_are_exactly_all() -> None:
    """Everything exported is listed in __all__ and everything listed exists."""
    public = {
        name
        for name in dir(mesoscreen)
        if not name.startswith("_") and not isinstance(getattr(mesoscreen, name), ModuleType)
    }
    assert public == set(mesoscreen.__all__) - {"__version__"}
    assert all(hasattr(mesoscreen, name) for name in mesoscreen.__all__)


def test_screen_returns_the_decision_object() -> None:
    """mesoscreen.screen(intake, on=date) gives the same decision the CLI prints."""
    decision = mesoscreen.screen(CLEAR_MALE, on=date(2026, 11, 25))
    assert decision.outcome is mesoscreen.Outcome.ELIGIBLE
    assert decision.as_dict()["screening_date"] == "2026-11-25"


def test_screen_accepts_a_policy_file_path() -> None:
    """A policy given as a path is loaded and named in the decision."""
    decision = mesoscreen.screen(
        intake(insulin_dependent_diabetes="yes", diabetes_stable="no"),
        on=date(2026, 11, 25),
        policy=POLICY,
    )
    assert decision.outcome is mesoscreen.Outcome.DEFERRED
    assert decision.policy.name.startswith("Example clinic")


def test_screen_refuses_a_bad_intake_with_an_intake_error() -> None:
    """Bad input is an exception naming the field; clinical outcomes never are."""
    with pytest.raises(mesoscreen.IntakeError, match="'pregnant'"):
        mesoscreen.screen({"pregnant": "perhaps"}, on=date(2026, 11, 25))
