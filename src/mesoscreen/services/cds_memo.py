"""Decisions and their card texts, shared between CDS calls whose facts give the same decision.

A record system asks about the same patients again and again (each order signed, each
appointment booked), and many patients' records give the same facts. Screening them again and
writing the same card texts again is most of a call's work after its token check, so the
decision and the texts it gives are kept, as the bulk screener keeps its decisions: keyed by
what a decision reads (``Screener.decision_key``, "equal keys, equal decisions"), and first by
the answers as they are when they are all text (the same answers are the same intake, so
neither their check nor their key need working out again). Each call still builds its own
cards from them (their uuids, links and suggestions are the call's own).

Everything is keyed per screening date: the memo starts empty on a new date. It holds at most
``MEMO_SIZE`` entries of each kind and starts again when full (no patient data is logged, and
nothing outlives the process). Reads and writes are single dictionary operations, so calls
on the event loop and in worker threads may share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from mesoscreen.domain.decision import Decision
from mesoscreen.services.cds_cards import CardTexts, card_texts
from mesoscreen.services.screening import ScreeningService

MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Screened:
    """A decision and the texts of its card (None: the record shows it is eligible)."""

    decision: Decision
    texts: CardTexts | None


class ScreeningMemo:
    """The screening service's decisions on CDS calls, with their card texts, kept by key."""

    def __init__(self, screening: ScreeningService, size: int = MEMO_SIZE) -> None:
        self.screening = screening
        self._size = size
        self._on: date | None = None
        self._by_key: dict[tuple[tuple[str, object], ...], Screened] = {}
        self._exact: dict[tuple[tuple[str, object], ...], Screened] = {}

    def screen(self, answers: Mapping[str, object], on: date) -> Screened:
        """The decision on ``answers`` on ``on`` and its card texts; IntakeError (from the
        screening service) if the answers are invalid, and nothing kept."""
        if on != self._on:
            self._by_key, self._exact, self._on = {}, {}, on
        exact = tuple(answers.items()) if all(type(v) is str for v in answers.values()) else None
        if exact is not None:
            found = self._exact.get(exact)
            if found is not None:
                return found
        found = self._by_decision_key(answers, on)
        if exact is not None:
            self._keep(self._exact, exact, found)
        return found

    def _by_decision_key(self, answers: Mapping[str, object], on: date) -> Screened:
        intake = self.screening.schema.parse(answers, on)
        key = self.screening.screener.decision_key(intake.facts)
        found = self._by_key.get(key)
        if found is None:
            decision = self.screening.screener.evaluate(intake, on)
            found = Screened(decision, card_texts(decision, self.screening.kb))
            self._keep(self._by_key, key, found)
        return found

    def _keep(
        self,
        memo: dict[tuple[tuple[str, object], ...], Screened],
        key: tuple[tuple[str, object], ...],
        screened: Screened,
    ) -> None:
        if len(memo) >= self._size:
            memo.clear()
        memo[key] = screened
