"""What CDS calls can share: the reading of a prefetched record, and decisions with their card
texts.

A record system asks about the same patients again and again (each order signed, each
appointment booked), and many patients' records give the same facts. Screening them again and
writing the same card texts again is most of a call's work after its token check, so the
decision and the texts it gives are kept, as the bulk screener keeps its decisions: keyed by
what a decision reads (``Screener.decision_key``, "equal keys, equal decisions"), and first by
the answers as they are when they are texts or lists of texts (``answers_key``: the same
answers are the same intake, so neither their check nor their key need working out again).
Each call still builds its own cards from them (their uuids, links and suggestions are the
call's own).

Before that, a record sent whole in prefetch is read into facts by the one record reader; the
same prefetch (the same JSON, for the same patient, on the same date) reads the same, so what
it read is kept too, keyed by a BLAKE2b digest of the prefetch as JSON (the record itself is
not kept). Only a complete prefetch is kept: a record fetched from the FHIR server is read
afresh each time.

Everything is keyed per screening date: the memo starts empty on a new date. It holds at most
``MEMO_SIZE`` entries of each kind and starts again when full (no patient data is logged, and
nothing outlives the process). Reads and writes are single dictionary operations, so calls
on the event loop and in worker threads may share it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from mesoscreen.domain.decision import Decision
from mesoscreen.services.answer_keys import AnswersKey, answers_key
from mesoscreen.services.cds_cards import CardTexts, card_texts
from mesoscreen.services.intake_reading import ScreeningInput
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
        self._exact: dict[AnswersKey, Screened] = {}

    def screen(self, answers: Mapping[str, object], on: date) -> Screened:
        """The decision on ``answers`` on ``on`` and its card texts; IntakeError (from the
        screening service) if the answers are invalid, and nothing kept."""
        if on != self._on:
            self._by_key, self._exact, self._on = {}, {}, on
        exact = answers_key(answers)
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


class RecordMemo:
    """What complete prefetches read as (``IntakeReader.read_record``), kept by their digest."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._on: date | None = None
        self._read: dict[tuple[bytes, str], ScreeningInput] = {}

    @staticmethod
    def key(prefetch: Any, patient_id: str) -> tuple[bytes, str]:
        """The key of a request's prefetch for ``patient_id``: a digest of its JSON."""
        digest = hashlib.blake2b(orjson.dumps(prefetch), digest_size=32).digest()
        return digest, patient_id

    def get(self, key: tuple[bytes, str], on: date) -> ScreeningInput | None:
        """What the prefetch of ``key`` read as on ``on``, if it was kept."""
        if on != self._on:
            self._read, self._on = {}, on
        return self._read.get(key)

    def keep(self, key: tuple[bytes, str], on: date, given: ScreeningInput) -> None:
        """Keep what a complete prefetch read as on ``on``."""
        if on != self._on:
            self._read, self._on = {}, on
        if len(self._read) >= self._size:
            self._read.clear()
        self._read[key] = given
