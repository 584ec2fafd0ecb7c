"""Cards from decisions: the indicator follows the outcome, and every card is one CDS Hooks
2.0 allows, whatever the answers."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings

from mesoscreen.domain.vocabulary import Outcome
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.cds_cards import cards_for
from mesoscreen.services.screening import ScreeningService
from tests.intakes import intake
from tests.integration.cds_hooks.conformance import assert_conforms
from tests.strategies import SCREENING_DAY, answers_for

KB = default_knowledge_base()
SCREENING = ScreeningService(KB)
LINK = "https://mesoscreen.clinic.example/patients"
EXPECTED_INDICATOR = {
    Outcome.CONTRAINDICATED: "critical",
    Outcome.DEFERRED: "warning",
    Outcome.SPECIALIST_CLEARANCE: "warning",
    Outcome.PRECAUTIONS: "info",
    Outcome.INCOMPLETE: "info",
}


@settings(max_examples=200, deadline=None)
@given(answers_for(KB))
def test_every_decision_gives_a_conforming_card_with_the_outcomes_indicator(
    answers: dict[str, Any],
) -> None:
    """critical, warning or info by outcome; none only for eligible; removal suggested exactly
    when treatment must not go ahead."""
    decision = SCREENING.screen(answers, SCREENING_DAY)
    cards = cards_for(decision, KB, ["ServiceRequest/meso-1"], LINK, "Patient/p1")
    assert_conforms({"cards": cards})
    if decision.outcome is Outcome.ELIGIBLE:
        assert cards == []
        return
    (card,) = cards
    assert card["indicator"] == EXPECTED_INDICATOR[decision.outcome]
    removes = any(a["type"] == "delete" for s in card.get("suggestions", []) for a in s["actions"])
    assert removes is (decision.outcome in (Outcome.CONTRAINDICATED, Outcome.DEFERRED))
    for finding in decision.findings:
        assert finding.citation.passage in card["detail"]
    for text in (card["summary"], card["detail"]):
        assert not re.search(r"\bNone\b|<built-in|object at 0x", text), text


def test_a_deferral_without_an_end_date_never_says_until_none() -> None:
    """Pregnancy defers with no date: the summary says what ends it, never 'until None'."""
    decision = SCREENING.screen(intake("female", pregnant="yes"), SCREENING_DAY)
    assert decision.outcome is Outcome.DEFERRED
    assert decision.earliest_date is None
    (card,) = cards_for(decision, KB, [], LINK, "Patient/p1")
    assert "None" not in card["summary"]
    assert card["summary"].startswith("Scalp mesotherapy deferred until the reason has passed")
    dated = SCREENING.screen(
        intake("female", recently_weaned="yes", weaned_on="2026-10-01"), SCREENING_DAY
    )
    (card,) = cards_for(dated, KB, [], LINK, "Patient/p1")
    assert f"deferred until {dated.earliest_date.isoformat()}" in card["summary"]
