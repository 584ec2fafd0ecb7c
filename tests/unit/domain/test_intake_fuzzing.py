"""Hostile intakes: arbitrary JSON never crashes screening and never reaches 'eligible' wrongly."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mesoscreen.domain.errors import IntakeError
from mesoscreen.domain.vocabulary import Outcome
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService
from tests.strategies import SCREENING_DAY

KB = default_knowledge_base()
SERVICE = ScreeningService(KB)
KEYS = st.one_of(st.sampled_from([q.id for q in KB.questions]), st.text(max_size=12))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(["yes", "no", "unknown", "female", "2026-01-31", "2026-02-30"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=500)
@given(st.one_of(st.dictionaries(KEYS, JSON, max_size=20), JSON))
def test_any_json_gives_a_decision_or_an_intake_error(document: Any) -> None:
    """Nothing but IntakeError escapes, and an accepted intake is eligible only when complete."""
    try:
        decision = SERVICE.screen(document, SCREENING_DAY)
    except IntakeError as exc:
        message = str(exc)
    else:
        message = None
    if message is not None:
        assert message.startswith("intake field '")
        return
    if decision.outcome is Outcome.ELIGIBLE:
        assert decision.missing == ()
