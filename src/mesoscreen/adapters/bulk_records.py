"""One patient's raw record lines to one decision line: parse, read the facts, screen.

The same screener runs in-process, in worker processes and in Spark partitions, so every
engine gives byte-identical output for the same patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
import orjson

from mesoscreen.adapters.bulk_decoder import BulkDecoder
from mesoscreen.adapters.bulk_export import BadLine, PatientLines
from mesoscreen.adapters.bulk_small import SMALL_LINE_BYTES, SmallBundles
from mesoscreen.adapters.fhir.record_facts import (
    PATIENT_FACTS,
    RecordReader,
    shows_birth_date,
)
from mesoscreen.adapters.ndjson import Line
from mesoscreen.domain.errors import InputError
from mesoscreen.services.answer_keys import AnswersKey, answers_key
from mesoscreen.services.ports import RecordFactsReader, RecordShown
from mesoscreen.services.record_identity import bundle_resources, record_patient
from mesoscreen.services.screening import ScreeningService


class RecordResult(msgspec.Struct, frozen=True, gc=False):
    """A decision line and what the summary counts, and any lines that could not be used.

    A msgspec Struct: made once per patient, it costs a tenth of a frozen dataclass.
    """

    output: bytes = b""
    outcome: str = ""
    categories: tuple[str, ...] = ()
    bad: tuple[BadLine, ...] = ()
    # Why the patient was not screened ("deceased"); the summary counts them apart.
    not_screened: str = ""


NOT_SCREENED = "not_screened"
# The line a Patient screened alone stands for (``_screen_patient``): a result that names a
# bad line is never used, the caller screens the real line instead.
_NO_LINE = Line("", 1, b"")


MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class _Screened:
    """A decision's JSON body (without braces) and what the summary counts."""

    body: bytes
    outcome: str
    categories: tuple[str, ...]


class RecordScreener:
    """Screens patient records with one knowledge base, policy and set of value sets.

    Patients whose intakes agree on every fact the rules read (and on which other questions
    are answered) get the same decision, so decisions are shared through a small bounded memo
    keyed on exactly that: the output is byte-for-byte what screening each one would give.
    """

    def __init__(self, service: ScreeningService, reader: RecordFactsReader, on: date) -> None:
        self.service = service
        self.reader = reader
        self.on = on
        self.decoder = BulkDecoder()
        # Whether a decision on what a Patient alone shows reads the birth date's value.
        self._birth_date_read = service.screener.reads_value("birth_date", PATIENT_FACTS)
        # The shared lines need the reader to tell inert resources; another reader reads all.
        self.small: SmallBundles | None = (
            SmallBundles(reader, self._screen_patient, self._any_birth_date)
            if isinstance(reader, RecordReader)
            else None
        )
        self._memo: dict[tuple[tuple[str, object], ...], _Screened] = {}
        self._exact: dict[AnswersKey, _Screened] = {}

    def _decide(self, answers: Mapping[str, object]) -> _Screened:
        """The decision for ``answers``, shared with earlier patients with the same key.

        Answers given as texts (sex, dates, yes) or lists of texts (allergens) are first
        looked up as they are (``answers_key``): the same answers are the same intake, so
        checking them and working out their decision key again would give the memo entry
        already found (a third of a small record's cost).
        """
        exact = answers_key(answers)
        if exact is not None:
            known = self._exact.get(exact)
            if known is not None:
                return known
        found = self._decide_by_key(answers)
        if exact is not None:
            if len(self._exact) >= MEMO_SIZE:
                self._exact.clear()
            self._exact[exact] = found
        return found

    def _decide_by_key(self, answers: Mapping[str, object]) -> _Screened:
        """The decision for ``answers``, through the memo keyed on what decisions read."""
        intake = self.service.schema.parse(answers, self.on)
        key = self.service.screener.decision_key(intake.facts)
        found = self._memo.get(key)
        if found is None:
            decision = self.service.screener.evaluate(intake, self.on)
            found = _Screened(
                body=orjson.dumps(decision.as_compact_dict())[1:-1],
                outcome=decision.outcome.value,
                categories=tuple(sorted({f.category.value for f in decision.findings})),
            )
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = found
        return found

    def screen(self, record: PatientLines) -> RecordResult:
        """The decision line for ``record``; unusable lines are reported, never fatal."""
        if record.is_bundle and len(record.lines) == 1:
            line = record.lines[0]
            return self.screen_bundle_line(line.source, line.number, line.data)
        return self._screen_general(record)

    def screen_bundle_line(self, source: str, number: int, data: bytes) -> RecordResult:
        """The decision line for one Bundle line (line ``number`` of ``source``), as
        ``screen`` gives it for that line as a record.

        A small line whose facts are its Patient's takes the shared line of its Patient's
        elements (``bulk_small``); a small line with a resource to read is read without
        finding its patient again; every other line is screened in full.
        """
        if self.small is not None and len(data) <= SMALL_LINE_BYTES:
            shared = self.small.screen(data)
            if type(shared) is str:
                resources = self.decoder.bundle(data)
                if resources:
                    try:
                        facts = self.reader.read(resources, self.on)
                    except orjson.JSONDecodeError:
                        facts = None  # the general path reports the line
                    if facts is not None:
                        return self._decided(shared, facts, (), Line(source, number, data))
            elif shared is not None:
                return shared  # type: ignore[return-value]
        return self._screen_general(PatientLines("", (Line(source, number, data),), True))

    def _screen_patient(self, patient_id: str, elements: Mapping[str, object]) -> RecordResult:
        """The general path's result for a Bundle line holding a Patient alone, with the id
        ``patient_id`` and ``elements`` (as the small path decodes them), taken from the
        step where that path has the line's resources and its patient: no line is made and
        decoded again."""
        patient = {"resourceType": "Patient", "id": patient_id, **elements}
        return self._decided(patient_id, self.reader.read([patient], self.on), (), _NO_LINE)

    def _any_birth_date(self, born: str) -> bool:
        """True when a Patient's ``birthDate`` ``born`` is known to give a Patient alone,
        otherwise alike, the line any other birth date it is true for gives, up to the id:
        the reader shows it (as the answer, the Patient as its evidence, nothing dated), the
        intake takes it on the screening date, and no decision on what a Patient alone can
        show reads its value (``Screener.reads_value``; equal decision keys, equal
        decisions). False says nothing: the birth date then keeps a key of its own."""
        return (
            not self._birth_date_read
            and shows_birth_date(born)
            and self.service.schema.answers("birth_date", born, self.on)
        )

    def _screen_general(self, record: PatientLines) -> RecordResult:
        """The decision line for ``record``, read in full."""
        try:
            parsed = self._parse(record, fast=True)
            facts = self.reader.read(parsed.resources, self.on) if parsed.resources else None
        except orjson.JSONDecodeError:
            # A raw concept that msgspec accepted and orjson refuses (a number out of range):
            # the general path reports the line as `screen` would.
            parsed, facts = self._parse(record, fast=False), None
        if parsed.failed or not parsed.resources:
            return RecordResult(bad=parsed.bad)
        if facts is None:
            facts = self.reader.read(parsed.resources, self.on)
        return self._decided(parsed.patient, facts, parsed.bad, record.lines[0])

    def _decided(
        self, patient: str, facts: RecordShown, bad: tuple[BadLine, ...], first: Line
    ) -> RecordResult:
        """The decision line of ``patient`` whose record shows ``facts``; ``bad`` are the
        lines of the record that could not be used, ``first`` its first line."""
        if facts.deceased is not None:
            output = b"".join((
                b'{"patient":', orjson.dumps(patient),
                b',"outcome":"not_screened","reason":"deceased","record":',
                orjson.dumps({"deceased": [facts.deceased]}), b"}\n",
            ))  # fmt: skip
            return RecordResult(output, NOT_SCREENED, (), bad, "deceased")
        try:
            screened = self._decide(facts.answers)
        except InputError as exc:
            return RecordResult(bad=(*bad, BadLine(first.source, first.number, str(exc))))
        tail = b',"unreadable_lines":' + str(len(bad)).encode() if bad else b""
        dates = b',"record_dates":' + orjson.dumps(facts.dates) if facts.dates else b""
        hints = b',"record_hints":' + orjson.dumps(facts.hints) if facts.hints else b""
        output = b"".join((
            b'{"patient":', orjson.dumps(patient), b",", screened.body,
            b',"record":', orjson.dumps(facts.evidence), dates, hints, tail, b"}\n",
        ))  # fmt: skip
        return RecordResult(output, screened.outcome, screened.categories, bad)

    def _parse(self, record: PatientLines, fast: bool) -> _Parsed:
        """The resources of ``record``'s lines, the lines that could not be used, the patient.

        ``fast`` decodes only what the reader reads (``BulkDecoder``); a line it cannot take
        whole is parsed in full, as it is without ``fast``, so both give the same facts.
        """
        resources: list[dict[str, Any]] = []
        bad: list[BadLine] = []
        patient = record.patient_id
        decoder = self.decoder if fast else None
        for line in record.lines:
            if not record.is_bundle:
                resource = decoder.resource(line.data) if decoder is not None else None
                if resource is not None:
                    resources.append(resource)
                    continue
            else:
                decoded = decoder.bundle(line.data) if decoder is not None else None
                found = _whose(decoded, line) if decoded is not None else None
                if decoded is not None and isinstance(found, str):
                    resources, patient = decoded, found
                    continue
                # Else the general path says what is wrong, as `mesoscreen screen` would.
            try:
                document = orjson.loads(line.data)
            except orjson.JSONDecodeError as exc:
                bad.append(BadLine(line.source, line.number, f"invalid JSON: {exc.msg}"))
                continue
            if not record.is_bundle:
                resources.append(document)
                continue
            try:
                resources = bundle_resources(document)
            except InputError as exc:
                bad.append(BadLine(line.source, line.number, str(exc)))
                continue
            refused = _whose(resources, line)
            if isinstance(refused, BadLine):
                return _Parsed([], (*bad, refused), "", failed=True)
            patient = refused
        return _Parsed(resources, tuple(bad), patient)


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A record's resources, the lines that could not be used, and whose record it is."""

    resources: list[dict[str, Any]]
    bad: tuple[BadLine, ...]
    patient: str
    failed: bool = False


def _whose(resources: list[dict[str, Any]], line: Line) -> str | BadLine:
    """The one patient a Bundle line's resources belong to, or why the line cannot be used
    (no patient, or two: a line is one patient's record and is never merged)."""
    try:
        patient = record_patient(resources)
    except InputError as exc:
        return BadLine(line.source, line.number, str(exc))
    return patient or BadLine(line.source, line.number, "Bundle has no Patient")
