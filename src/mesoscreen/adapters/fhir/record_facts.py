"""Intake facts from a patient's FHIR R4 record, through the value sets shipped as data.

A record can show a risk but never its absence: facts are only ever set to ``yes`` (or to a
list of allergens, a sex, a birth date); everything else stays unknown and the screening asks
the patient. ``verificationStatus`` entered-in-error or refuted counts for nothing; a history
fact (cancer, infarction) counts whatever the ``clinicalStatus``; a current fact (pregnancy,
a scalp infection) needs an active status and, where the value set says so, a recent date.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

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


def _codings(concept: object) -> Iterator[tuple[str, str]]:
    """(system, code) of every coding of a CodeableConcept."""
    if isinstance(concept, dict):
        for coding in _list(concept.get("coding")):
            if isinstance(coding, dict):
                system, code = coding.get("system"), coding.get("code")
                if isinstance(system, str) and isinstance(code, str):
                    yield system, code


def _texts(concept: object) -> Iterator[str]:
    """The text and every display of a CodeableConcept."""
    if isinstance(concept, dict):
        text = concept.get("text")
        if isinstance(text, str) and text.strip():
            yield text.strip()
        for coding in _list(concept.get("coding")):
            if isinstance(coding, dict):
                display = coding.get("display")
                if isinstance(display, str) and display.strip():
                    yield display.strip()


def _status(concept: object) -> str | None:
    """The first code of a status CodeableConcept (clinicalStatus, verificationStatus)."""
    for _, code in _codings(concept):
        return code
    return None


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
            if not isinstance(resource, Mapping):
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

    def _matches(self, kind: str, concept: object) -> list[FactCodes]:
        """The facts whose codes or names match ``concept`` in a resource of ``kind``."""
        found: list[FactCodes] = []
        by_code = self._by_code.get(kind, {})
        by_prefix = self._by_prefix.get(kind, {})
        codings = concept.get("coding") if isinstance(concept, dict) else None
        # The hot loop of bulk screening: inlined, and cheap for the many codes that match nothing.
        for coding in codings if isinstance(codings, list) else ():
            if not isinstance(coding, dict):
                continue
            system, code = coding.get("system"), coding.get("code")
            if not isinstance(system, str) or not isinstance(code, str):
                continue
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
            for text in _texts(concept):
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
        matched = self._matches("Condition", resource.get("code"))
        if not matched or _status(resource.get("verificationStatus")) in _IGNORED_VERIFICATION:
            return
        clinical = _status(resource.get("clinicalStatus"))
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
        code = resource.get("code")
        candidates = [fact for key in _codings(code) for fact in self._observations.get(key, ())]
        if not candidates:
            return
        value_codes = set(_codings(resource.get("valueCodeableConcept")))
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
        concept = resource.get("medicationCodeableConcept")
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
            concept = medication.get("code") if medication is not None else None
            if concept is None and isinstance(reference.get("display"), str):
                concept = {"text": reference["display"]}
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
        for fact in self._matches(kind, concept):
            if self._recent(fact, day, on):
                facts._show(fact.question, "yes", _reference(resource))

    def _allergy(self, resource: Mapping[str, Any], facts: RecordFacts) -> None:
        if _status(resource.get("verificationStatus")) in _IGNORED_VERIFICATION:
            return
        reference = _reference(resource)
        facts._show("allergy_history", "yes", reference)
        code = resource.get("code")
        named = [
            self.value_sets.allergen_codes[key]
            for key in _codings(code)
            if key in self.value_sets.allergen_codes
        ]
        text = next(_texts(code), None)
        if text is not None:
            named.append(text[:200])
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
