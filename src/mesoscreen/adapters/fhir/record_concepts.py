"""What the reader reads of a patient's record: the elements, the CodeableConcepts among them,
and the facts of the shipped value sets those concepts match.

A CodeableConcept may arrive parsed (a dict) or as its raw JSON (``msgspec.Raw``, from the
bulk decoder, which skips every element the reader does not read). What the reader takes from
a raw concept is kept per distinct byte string, so a code seen in thousands of records is
parsed and matched once; the result is the same as for the parsed concept.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from msgspec import Raw

from mesoscreen.knowledge.valuesets import FactCodes, RecordValueSets, normalise_icd10
from mesoscreen.services.ports import TerminologyService

#: Medication statements and orders: the kinds whose concepts also match by ingredient name.
MEDICATION_KINDS = frozenset({"MedicationStatement", "MedicationRequest"})


def as_list(value: object) -> list[Any]:
    """``value`` if it is a list, else an empty one (records are not always well formed)."""
    return value if isinstance(value, list) else []


def _codings(concept: object) -> tuple[tuple[str, str], ...]:
    """(system, code) of every coding of a CodeableConcept."""
    if not isinstance(concept, dict):
        return ()
    found = []
    for coding in as_list(concept.get("coding")):
        if isinstance(coding, dict):
            system, code = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(code, str):
                found.append((system, code))
    return tuple(found)


def _texts(concept: object) -> tuple[str, ...]:
    """The text and every display of a CodeableConcept."""
    if not isinstance(concept, dict):
        return ()
    found = []
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        found.append(text.strip())
    for coding in as_list(concept.get("coding")):
        if isinstance(coding, dict):
            display = coding.get("display")
            if isinstance(display, str) and display.strip():
                found.append(display.strip())
    return tuple(found)


class Concept:
    """What the reader uses of one CodeableConcept (anything but a JSON object holds nothing),
    and the facts it matched per resource kind."""

    __slots__ = ("_texts", "codings", "matches", "value")

    def __init__(self, value: object) -> None:
        self.value = value
        self.codings = _codings(value)
        self.matches: dict[str, list[FactCodes]] = {}
        self._texts: tuple[str, ...] | None = None

    @property
    def texts(self) -> tuple[str, ...]:
        """The text and every display, worked out when first asked for."""
        if self._texts is None:
            self._texts = _texts(self.value)
        return self._texts

    @property
    def status(self) -> str | None:
        """The first code (of a clinicalStatus or verificationStatus)."""
        return self.codings[0][1] if self.codings else None


#: Elements of a resource the reader reads; the bulk decoder keeps these and skips the rest.
READ_ELEMENTS = frozenset({
    "resourceType", "id", "status", "gender", "birthDate", "contained",
    "deceasedBoolean", "deceasedDateTime",
    "onsetDateTime", "onsetPeriod", "onsetAge", "onsetRange", "onsetString",
    "abatementDateTime", "abatementPeriod", "abatementAge", "abatementRange",
    "abatementString", "abatementBoolean", "recordedDate",
    "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued",
    "dateAsserted", "authoredOn", "dispenseRequest", "valueBoolean", "medicationReference",
})  # fmt: skip
#: The CodeableConcepts among them, which the bulk decoder hands over as raw JSON.
CONCEPT_ELEMENTS = frozenset({
    "code", "clinicalStatus", "verificationStatus", "valueCodeableConcept",
    "medicationCodeableConcept",
})  # fmt: skip
#: The elements ``RecordReader.inert`` reads besides resourceType: what decides whether a
#: resource can change a record's facts.
INERT_ELEMENTS = (
    "status", "valueBoolean", "code", "verificationStatus", "clinicalStatus",
    "valueCodeableConcept", "medicationCodeableConcept", "medicationReference",
)  # fmt: skip
RAW_MEMO_SIZE = 4096
_SEEN_SIZE = 4 * RAW_MEMO_SIZE
_UNSEEN = Concept(None)
RAW_MEMO_MAX_BYTES = 1024
#: Where a concept keeps the facts its text hints at, per resource kind, apart from its matches.
HINT_KEYS = {kind: "hint " + kind for kind in ("Condition", *MEDICATION_KINDS)}


class ConceptMatcher:
    """Finds the facts a CodeableConcept matches: by code, by prefix, through a terminology
    service, by name, and the facts its uncoded text hints at; kept per concept.

    ``terminology`` (optional) is asked, for a SNOMED CT code the shipped expansions lack,
    whether it descends from one of a fact's root concepts; its answers are kept per concept.
    """

    def __init__(
        self, value_sets: RecordValueSets, terminology: TerminologyService | None = None
    ) -> None:
        self.value_sets = value_sets
        self.terminology = terminology
        self._by_code: dict[str, dict[tuple[str, str], list[FactCodes]]] = {}
        # Per resource type and system: every prefix (for one quick startswith test), then
        # the facts with their own prefixes. Prefixed codes are normalised first (ICD-10 has
        # dotted and undotted forms and marks such as '+' and '!'; ATC has neither).
        self._by_prefix: dict[
            str, dict[str, tuple[tuple[str, ...], list[tuple[tuple[str, ...], FactCodes]]]]
        ] = {}
        self._names: dict[str, tuple[re.Pattern[str], dict[str, list[FactCodes]]]] = {}
        self._hints: dict[str, tuple[re.Pattern[str], dict[str, list[FactCodes]]]] = {}
        self._roots: dict[str, list[FactCodes]] = {}
        self._observations: dict[tuple[str, str], list[FactCodes]] = {}
        self._raw: dict[bytes, Concept | None] = {}
        self._seen: set[int] = set()
        self._icd10 = frozenset(value_sets.icd10_systems)
        self._snomed = next(
            (s for f in value_sets.facts for s, _ in f.codes if s.endswith("snomed.info/sct")),
            "http://snomed.info/sct",
        )
        qualifiers = sorted(value_sets.qualifiers, key=len)[::-1]
        self._qualified = (
            re.compile("|".join(re.escape(q) for q in qualifiers)) if qualifiers else None
        )
        for fact in value_sets.facts:
            for kind in fact.resources:
                if kind == "Observation":
                    for key in fact.observation_codes:
                        self._observations.setdefault(key, []).append(fact)
                    continue
                index = self._by_code.setdefault(kind, {})
                for key in fact.codes:
                    index.setdefault(key, []).append(fact)
                for system, prefixes in fact.prefixes:
                    by_system = self._by_prefix.setdefault(kind, {})
                    union, facts = by_system.get(system, ((), []))
                    by_system[system] = (union + prefixes, [*facts, (prefixes, fact)])
                if fact.names and kind in MEDICATION_KINDS:
                    self._add_words(self._names, kind, fact.names, fact)
                if fact.hints:
                    self._add_words(self._hints, kind, fact.hints, fact)
                if fact.snomed_roots:
                    self._roots.setdefault(kind, []).append(fact)

    @staticmethod
    def _add_words(
        table: dict[str, tuple[re.Pattern[str], dict[str, list[FactCodes]]]],
        kind: str,
        words: tuple[str, ...],
        fact: FactCodes,
    ) -> None:
        by_word = table[kind][1] if kind in table else {}
        for word in words:
            by_word.setdefault(word, []).append(fact)
        alternatives = "|".join(re.escape(w) for w in sorted(by_word, key=len)[::-1])
        table[kind] = (re.compile(alternatives), by_word)

    def concept(self, value: object) -> Concept | None:
        """The concept in an element's ``value``, parsed or raw; None if absent or null.

        Raw concepts are remembered by their bytes from the second time they are seen (a
        bounded memo of small ones): a concept seen once, such as free text, is not kept, so
        it neither fills the memo nor lives on for the garbage collector to walk. Raw bytes
        that are not JSON raise ``orjson.JSONDecodeError``, as parsing the line would.
        """
        if not isinstance(value, Raw):
            return None if value is None else Concept(value)
        raw = bytes(value)
        known = self._raw.get(raw, _UNSEEN)
        if known is not _UNSEEN:
            return known
        parsed = orjson.loads(raw)
        concept = None if parsed is None else Concept(parsed)
        if len(raw) <= RAW_MEMO_MAX_BYTES:
            seen = hash(raw)  # a collision only keeps a concept early; the memo key is exact
            if seen in self._seen:
                if len(self._raw) >= RAW_MEMO_SIZE:
                    self._raw.clear()
                self._raw[raw] = concept
            else:
                if len(self._seen) >= _SEEN_SIZE:
                    self._seen.clear()
                self._seen.add(seen)
        return concept

    def _status(self, value: object) -> str | None:
        concept = self.concept(value)
        return concept.status if concept is not None else None

    def _matches(self, kind: str, concept: Concept | None) -> list[FactCodes]:
        """The facts whose codes (or, for medications, names) match ``concept``."""
        if concept is None:
            return []
        found = concept.matches.get(kind)
        if found is None:
            found = concept.matches[kind] = self._match(kind, concept)
        return found

    def _match(self, kind: str, concept: Concept) -> list[FactCodes]:
        found: list[FactCodes] = []
        by_code = self._by_code.get(kind, {})
        by_prefix = self._by_prefix.get(kind, {})
        for system, code in concept.codings:
            matched = by_code.get((system, code))
            if matched:
                found.extend(matched)
            prefixed = by_prefix.get(system)
            if prefixed is not None:
                plain = normalise_icd10(code) if system in self._icd10 else code.upper()
                if plain.startswith(prefixed[0]):
                    found.extend(fact for starts, fact in prefixed[1] if plain.startswith(starts))
        if not found and self.terminology is not None:
            found = self._subsumed(kind, concept)
        if not found:
            names = self._names.get(kind)
            if names is not None:
                found = self._worded(names, concept)
        return found

    def _subsumed(self, kind: str, concept: Concept) -> list[FactCodes]:
        """The facts a terminology service places the concept's SNOMED CT codes under."""
        assert self.terminology is not None  # noqa: S101 (the caller checked)
        found: list[FactCodes] = []
        for system, code in concept.codings:
            if system != self._snomed:
                continue
            for fact in self._roots.get(kind, ()):
                if fact not in found and any(
                    self.terminology.subsumes(system, root, code) for root in fact.snomed_roots
                ):
                    found.append(fact)
        return found

    def _worded(
        self, table: tuple[re.Pattern[str], dict[str, list[FactCodes]]], concept: Concept
    ) -> list[FactCodes]:
        """The facts whose words appear in the concept's text without a qualifier."""
        pattern, by_word = table
        found: list[FactCodes] = []
        for text in concept.texts:
            lowered = text.lower()
            words = pattern.findall(lowered)
            if not words or (self._qualified is not None and self._qualified.search(lowered)):
                continue
            for word in words:
                found.extend(f for f in by_word[word] if f not in found)
        return found

    def _hinted(self, kind: str, concept: Concept | None) -> list[FactCodes]:
        """The facts an uncoded text of ``concept`` hints at (kept per concept)."""
        if concept is None or kind not in self._hints:
            return []
        key = HINT_KEYS.get(kind, kind)
        found = concept.matches.get(key)
        if found is None:
            found = concept.matches[key] = self._worded(self._hints[kind], concept)
        return found
