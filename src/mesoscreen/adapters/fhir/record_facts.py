"""Intake facts from a patient's FHIR R4 record, through the value sets shipped as data.

A record can show a risk but never its absence: facts are only ever set to ``yes`` (or to a
list of allergens, a sex, a birth date); everything else stays unknown and the screening asks
the patient. ``verificationStatus`` entered-in-error or refuted counts for nothing; a history
fact (cancer, infarction) counts whatever the ``clinicalStatus``; a current fact (pregnancy,
a scalp infection) needs an active status and, where the value set says so, a recent date.

A CodeableConcept may arrive parsed (a dict) or as its raw JSON (``msgspec.Raw``, from the
bulk decoder, which skips every element the reader does not read). What the reader takes from
a raw concept is kept per distinct byte string, so a code seen in thousands of records is
parsed and matched once; the result is the same as for the parsed concept.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from msgspec import Raw

from mesoscreen.knowledge.valuesets import FactCodes, RecordValueSets, default_value_sets

_IGNORED_VERIFICATION = frozenset({"entered-in-error", "refuted"})
_CURRENT_CLINICAL = frozenset({"active", "recurrence", "relapse"})
_IGNORED_OBSERVATION = frozenset({"entered-in-error", "cancelled"})
_TAKEN_STATEMENT = frozenset({"active", "intended", "on-hold", "unknown"})
_CURRENT_REQUEST = frozenset({"active", "on-hold", "unknown"})
_SEXES = {"male": "male", "female": "female", "other": "other"}
MAX_ALLERGENS = 50


@dataclass(slots=True)
class RecordFacts:
    """What the record shows: raw intake answers and, per question, the resources behind it."""

    answers: dict[str, object] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)

    def _show(self, question: str, value: object, reference: str) -> None:
        self.answers[question] = value
        references = self.evidence.setdefault(question, [])
        if reference not in references:
            references.append(reference)


def _list(value: object) -> list[Any]:
    """``value`` if it is a list, else an empty one (records are not always well formed)."""
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    """``value`` if it is a string."""
    return value if isinstance(value, str) else None


def _codings(concept: object) -> tuple[tuple[str, str], ...]:
    """(system, code) of every coding of a CodeableConcept."""
    if not isinstance(concept, dict):
        return ()
    found = []
    for coding in _list(concept.get("coding")):
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
    for coding in _list(concept.get("coding")):
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
    "onsetDateTime", "recordedDate", "effectiveDateTime", "effectivePeriod", "issued",
    "dateAsserted", "authoredOn", "valueBoolean", "medicationReference",
})  # fmt: skip
#: The CodeableConcepts among them, which the bulk decoder hands over as raw JSON.
CONCEPT_ELEMENTS = frozenset({
    "code", "clinicalStatus", "verificationStatus", "valueCodeableConcept",
    "medicationCodeableConcept",
})  # fmt: skip
RAW_MEMO_SIZE = 4096
_SEEN_SIZE = 4 * RAW_MEMO_SIZE
_UNSEEN = Concept(None)
_OBSERVED = "Observation code"  # the key of an Observation code's candidate facts
RAW_MEMO_MAX_BYTES = 1024


def _latest_day(value: object) -> date | None:
    """The last day a FHIR date/dateTime can mean ('2026' is 2026-12-31); None if unreadable."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        year = int(value[:4])
        if len(value) < 7:
            return date(year, 12, 31)
        month = int(value[5:7])
        if len(value) < 10:
            return date(year, month, calendar.monthrange(year, month)[1])
        return date(year, month, int(value[8:10]))
    except ValueError:
        return None


def _reference(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '?')}"


class RecordReader:
    """Reads records with one set of value sets; build once, use for many patients."""

    def __init__(self, value_sets: RecordValueSets) -> None:
        self.value_sets = value_sets
        self._by_code: dict[str, dict[tuple[str, str], list[FactCodes]]] = {}
        # Per resource type and system: every prefix (for one quick startswith test), then
        # the facts with their own prefixes.
        self._by_prefix: dict[
            str, dict[str, tuple[tuple[str, ...], list[tuple[tuple[str, ...], FactCodes]]]]
        ] = {}
        self._names: dict[str, tuple[re.Pattern[str], dict[str, list[FactCodes]]]] = {}
        self._observations: dict[tuple[str, str], list[FactCodes]] = {}
        self._raw: dict[bytes, Concept | None] = {}
        self._seen: set[int] = set()
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
                if fact.names:
                    by_name = self._names[kind][1] if kind in self._names else {}
                    for name in fact.names:
                        by_name.setdefault(name, []).append(fact)
                    alternatives = "|".join(re.escape(n) for n in sorted(by_name, key=len)[::-1])
                    self._names[kind] = (re.compile(alternatives), by_name)

    @classmethod
    def default(cls) -> RecordReader:
        """A reader with the shipped value sets."""
        return cls(default_value_sets())

    def read(self, resources: Iterable[object], on: date) -> RecordFacts:
        """The facts ``resources`` (one patient's) show on day ``on``; non-objects are skipped."""
        facts = RecordFacts()
        medications: dict[str, Mapping[str, Any]] = {}
        pending: list[Mapping[str, Any]] = []
        for resource in resources:
            if not isinstance(resource, dict):
                continue
            kind = resource.get("resourceType")
            if kind == "Condition":
                self._condition(resource, on, facts)
            elif kind == "Observation":
                self._observation(resource, on, facts)
            elif kind in ("MedicationStatement", "MedicationRequest"):
                pending.append(resource)
            elif kind == "AllergyIntolerance":
                self._allergy(resource, facts)
            elif kind == "Patient":
                self._patient(resource, facts)
            elif kind == "Medication" and isinstance(resource.get("id"), str):
                medications[f"Medication/{resource['id']}"] = resource
        for resource in pending:
            self._medication(resource, medications, on, facts)
        return facts

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
        """The facts whose codes or names match ``concept`` in a resource of ``kind``."""
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
                upper = code.upper()
                if upper.startswith(prefixed[0]):
                    found.extend(fact for starts, fact in prefixed[1] if upper.startswith(starts))
        names = self._names.get(kind)
        if names is not None:
            pattern, by_name = names
            for text in concept.texts:
                for match in pattern.finditer(text.lower()):
                    found.extend(by_name[match.group(0)])
        return found

    @staticmethod
    def _recent(fact: FactCodes, day: date | None, on: date) -> bool:
        """Whether a resource dated ``day`` is recent enough for a current fact."""
        if fact.history or fact.within_days is None or day is None:
            return True
        return (on - day).days <= fact.within_days

    def _condition(self, resource: Mapping[str, Any], on: date, facts: RecordFacts) -> None:
        matched = self._matches("Condition", self.concept(resource.get("code")))
        if not matched or self._status(resource.get("verificationStatus")) in _IGNORED_VERIFICATION:
            return
        clinical = self._status(resource.get("clinicalStatus"))
        day = _latest_day(resource.get("onsetDateTime")) or _latest_day(
            resource.get("recordedDate")
        )
        for fact in matched:
            if not fact.history and clinical is not None and clinical not in _CURRENT_CLINICAL:
                continue
            if self._recent(fact, day, on):
                facts._show(fact.question, "yes", _reference(resource))

    def _observation(self, resource: Mapping[str, Any], on: date, facts: RecordFacts) -> None:
        if _str(resource.get("status")) in _IGNORED_OBSERVATION:
            return
        code = self.concept(resource.get("code"))
        if code is None:
            return
        candidates = code.matches.get(_OBSERVED)
        if candidates is None:
            candidates = code.matches[_OBSERVED] = [
                fact for key in code.codings for fact in self._observations.get(key, ())
            ]
        if not candidates:
            return
        value = self.concept(resource.get("valueCodeableConcept"))
        value_codes = set(value.codings if value is not None else ())
        value_boolean = resource.get("valueBoolean")
        day = _latest_day(resource.get("effectiveDateTime")) or _latest_day(resource.get("issued"))
        for fact in candidates:
            shows = bool(value_codes & fact.value_codes) or (
                fact.value_boolean is not None and value_boolean is fact.value_boolean
            )
            if shows and self._recent(fact, day, on):
                facts._show(fact.question, "yes", _reference(resource))

    def _medication(
        self,
        resource: Mapping[str, Any],
        medications: Mapping[str, Mapping[str, Any]],
        on: date,
        facts: RecordFacts,
    ) -> None:
        kind = str(resource.get("resourceType"))
        status = _str(resource.get("status"))
        current = _TAKEN_STATEMENT if kind == "MedicationStatement" else _CURRENT_REQUEST
        if status is not None and status not in current:
            return
        concept = self.concept(resource.get("medicationCodeableConcept"))
        reference = resource.get("medicationReference")
        if concept is None and isinstance(reference, dict):
            target = reference.get("reference")
            medication = medications.get(target) if isinstance(target, str) else None
            if medication is None and isinstance(target, str) and target.startswith("#"):
                medication = next(
                    (c for c in _list(resource.get("contained")) if isinstance(c, dict)
                     and c.get("id") == target[1:]),
                    None,
                )  # fmt: skip
            concept = self.concept(medication.get("code")) if medication is not None else None
            if concept is None and isinstance(reference.get("display"), str):
                concept = Concept({"text": reference["display"]})
        matched = self._matches(kind, concept)
        if not matched:
            return
        # An active statement or order is current however long ago it started; only a
        # period that has ended, or a resource without a status, is judged by its date.
        period = resource.get("effectivePeriod")
        ended = _latest_day(period.get("end")) if isinstance(period, dict) else None
        if ended is not None or status in (None, "unknown"):
            dates = [
                ended,
                resource.get("effectiveDateTime"),
                period.get("start") if isinstance(period, dict) else None,
                resource.get("dateAsserted"),
                resource.get("authoredOn"),
            ]
            day = next(
                (d if isinstance(d, date) else _latest_day(d) for d in dates if d is not None),
                None,
            )
        else:
            day = None
        for fact in matched:
            if self._recent(fact, day, on):
                facts._show(fact.question, "yes", _reference(resource))

    def _allergy(self, resource: Mapping[str, Any], facts: RecordFacts) -> None:
        if self._status(resource.get("verificationStatus")) in _IGNORED_VERIFICATION:
            return
        reference = _reference(resource)
        facts._show("allergy_history", "yes", reference)
        code = self.concept(resource.get("code")) or Concept(None)
        named = [
            self.value_sets.allergen_codes[key]
            for key in code.codings
            if key in self.value_sets.allergen_codes
        ]
        if code.texts:
            named.append(code.texts[0][:200])
        if named:
            allergens = facts.answers.get("allergens")
            listed: list[str] = allergens if isinstance(allergens, list) else []
            for name in named:
                if name not in listed and len(listed) < MAX_ALLERGENS:
                    listed.append(name)
            facts._show("allergens", listed, reference)

    @staticmethod
    def _patient(resource: Mapping[str, Any], facts: RecordFacts) -> None:
        reference = _reference(resource)
        sex = _SEXES.get(str(resource.get("gender")))
        if sex is not None:
            facts._show("sex", sex, reference)
        born = resource.get("birthDate")
        if isinstance(born, str) and len(born) == 10 and _latest_day(born) is not None:
            facts._show("birth_date", born, reference)
