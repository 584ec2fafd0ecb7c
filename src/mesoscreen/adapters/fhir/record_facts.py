"""Intake facts from a patient's FHIR R4 record, through the value sets shipped as data.

A record can show a risk but never its absence: facts are only ever set to ``yes`` (or to a
list of allergens, a sex, a birth date); everything else stays unknown and the screening asks
the patient. ``verificationStatus`` entered-in-error or refuted counts for nothing; a history
fact (cancer, infarction) counts whatever the ``clinicalStatus``; a current fact (pregnancy,
a scalp infection) needs an active status, no abatement on or before the screening date and,
where the value set says so, a recent date (see ``record_dates`` for the forms dates take).
Codes come first: SNOMED CT and RxNorm by expansion, ICD-10 (WHO, GM, CM) and ATC by prefix;
ingredient names in medication text come last. Text that no code matched and that names a
risk is a hint (the question is asked with it), never a yes, and text with a qualifier
("suspected", "family history of", "benign") is not even a hint. A deceased patient is marked
as such (``deceased``): the callers do not screen them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mesoscreen.adapters.fhir.record_concepts import (
    HINT_KEYS,
    MEDICATION_KINDS,
    Concept,
    ConceptMatcher,
    as_list,
)
from mesoscreen.adapters.fhir.record_dates import Span, latest_day, span_of
from mesoscreen.knowledge.valuesets import FactCodes, default_value_sets
from mesoscreen.services.ports import TerminologyService

_IGNORED_VERIFICATION = frozenset({"entered-in-error", "refuted"})
_UNCERTAIN_VERIFICATION = frozenset({"provisional", "differential", "unconfirmed"})
_CURRENT_CLINICAL = frozenset({"active", "recurrence", "relapse"})
_IGNORED_OBSERVATION = frozenset({"entered-in-error", "cancelled"})
_TAKEN_STATEMENT = frozenset({"active", "intended", "on-hold", "unknown"})
_CURRENT_REQUEST = frozenset({"active", "on-hold", "unknown"})
_SEXES = {"male": "male", "female": "female", "other": "other"}
#: The facts a Patient can show (``RecordReader._patient``).
PATIENT_FACTS = frozenset({"sex", "birth_date"})
MAX_ALLERGENS = 50
MAX_HINTS = 5
HINT_CHARS = 120


@dataclass(slots=True)
class RecordFacts:
    """What the record shows: raw intake answers and, per question, the resources behind it,
    the dates each was judged by, hints from uncoded text, and whether the patient died."""

    answers: dict[str, object] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    hints: dict[str, list[str]] = field(default_factory=dict)
    deceased: str | None = None

    def _show(self, question: str, value: object, reference: str, dated: str = "") -> None:
        self.answers[question] = value
        references = self.evidence.setdefault(question, [])
        if reference not in references:
            references.append(reference)
        if dated:
            self.dates[reference] = dated

    def _hint(self, question: str, text: str, reference: str) -> None:
        hints = self.hints.setdefault(question, [])
        hint = f"the record mentions '{text[:HINT_CHARS]}' ({reference})"
        if hint not in hints and len(hints) < MAX_HINTS:
            hints.append(hint)


def shows_birth_date(born: object) -> bool:
    """Whether the reader shows a Patient's ``birthDate`` as the birth date answer: ten
    characters that ``latest_day`` reads as a day (the intake checks it again)."""
    return isinstance(born, str) and len(born) == 10 and latest_day(born) is not None


def _str(value: object) -> str | None:
    """``value`` if it is a string."""
    return value if isinstance(value, str) else None


_OBSERVED = "Observation code"  # the key of an Observation code's candidate facts


def _reference(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '?')}"


_CONDITION_HINTS = HINT_KEYS["Condition"]
_AGES = frozenset({"onsetAge", "onsetRange", "abatementAge", "abatementRange"})


def _birth_date(resources: list[Any]) -> date | None:
    """The birth date of the Patient among ``resources`` (for an onset given as an age)."""
    for resource in resources:
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            return latest_day(resource.get("birthDate"))
    return None


def _dated(label: str, span: Span) -> str:
    """'onset 2024-03-01' (or the span's start to end) for the evidence; '' if undated."""
    if span.start is not None and span.end is not None and span.start != span.end:
        return f"{label} {span.start.isoformat()} to {span.end.isoformat()}"
    return _dated_on(label, span.last)


def _dated_on(label: str, day: date | None) -> str:
    """'recorded 2024-03-01' for the evidence; '' if ``day`` is None."""
    return f"{label} {day.isoformat()}" if day is not None else ""


def _joined(*parts: str) -> str:
    return ", ".join([p for p in parts if p])


# A span that says nothing, shared (a Span is frozen, and making one costs more than reading it).
_NO_SPAN = Span()


class RecordReader(ConceptMatcher):
    """Reads records with one set of value sets; build once, use for many patients."""

    @classmethod
    def default(cls, terminology: TerminologyService | None = None) -> RecordReader:
        """A reader with the shipped value sets (and a terminology service, if given)."""
        return cls(default_value_sets(), terminology)

    def read(self, resources: Iterable[object], on: date) -> RecordFacts:
        """The facts ``resources`` (one patient's) show on day ``on``; non-objects are skipped."""
        facts = RecordFacts()
        medications: dict[str, Mapping[str, Any]] = {}
        pending: list[Mapping[str, Any]] = []
        listed = resources if isinstance(resources, list) else list(resources)
        for resource in listed:
            if not isinstance(resource, dict):
                continue
            kind = resource.get("resourceType")
            if kind == "Condition":
                self._condition(resource, on, listed, facts)
            elif kind == "Observation":
                self._observation(resource, on, facts)
            elif kind in MEDICATION_KINDS:
                pending.append(resource)
            elif kind == "AllergyIntolerance":
                self._allergy(resource, facts)
            elif kind == "Patient":
                self._patient(resource, on, facts)
            elif kind == "Medication" and isinstance(resource.get("id"), str):
                medications[f"Medication/{resource['id']}"] = resource
        for resource in pending:
            self._medication(resource, medications, on, facts)
        return facts

    def inert(self, resource: Mapping[str, Any]) -> bool:
        """Whether reading ``resource`` (not a Patient) adds nothing to any record's facts: no
        answer, evidence, date or hint, whatever else the record holds.

        False whenever that is not plain from ``INERT_ELEMENTS`` alone (it reads no other
        element, no date): a coded risk that may count (a history fact, a current one with
        a current or no clinical status), a text that hints at one, a medication named by
        reference, an allergy, a Patient, and a Medication (another resource may name it).
        """
        kind = resource.get("resourceType")
        if kind == "Condition":
            concept = self.concept(resource.get("code"))
            if concept is None:
                return True
            matched = self._matches(kind, concept)
            if not matched:
                return not self._hinted(kind, concept)
            verification = self._status(resource.get("verificationStatus"))
            if verification in _IGNORED_VERIFICATION:
                return True
            if verification in _UNCERTAIN_VERIFICATION:
                return False
            # Only current facts, and a status that is not current: none counts, whatever the
            # dates (a history fact counts whatever the status).
            clinical = self._status(resource.get("clinicalStatus"))
            return (
                clinical is not None
                and clinical not in _CURRENT_CLINICAL
                and not any(fact.history for fact in matched)
            )
        if kind == "Observation":
            return not self._observed(resource)
        if kind in MEDICATION_KINDS:
            status = _str(resource.get("status"))
            current = _TAKEN_STATEMENT if kind == "MedicationStatement" else _CURRENT_REQUEST
            if status is not None and status not in current:
                return True
            concept = self.concept(resource.get("medicationCodeableConcept"))
            if concept is None:
                return resource.get("medicationReference") is None
            return not self._matches(kind, concept)
        if kind == "AllergyIntolerance":
            return self._status(resource.get("verificationStatus")) in _IGNORED_VERIFICATION
        return kind not in ("Patient", "Medication")

    def _hint(
        self, kind: str, concept: Concept | None, resource: Mapping[str, Any], facts: RecordFacts
    ) -> None:
        hinted = self._hinted(kind, concept)
        if hinted and concept is not None:
            text = concept.texts[0] if concept.texts else ""
            for fact in hinted:
                facts._hint(fact.question, text, _reference(resource))

    @staticmethod
    def _recent(fact: FactCodes, day: date | None, on: date) -> bool:
        """Whether a resource dated ``day`` is recent enough for a current fact."""
        if fact.history or fact.within_days is None or day is None:
            return True
        return (on - day).days <= fact.within_days

    def _condition(
        self, resource: Mapping[str, Any], on: date, listed: list[Any], facts: RecordFacts
    ) -> None:
        concept = self.concept(resource.get("code"))
        matched = self._matches("Condition", concept)
        if not matched:
            # Uncoded text that names a risk is worth asking about, never a yes.
            if concept is None:
                return
            hinted = concept.matches.get(_CONDITION_HINTS)
            if hinted is None:
                hinted = self._hinted("Condition", concept)
            if hinted and (
                self._status(resource.get("verificationStatus")) not in _IGNORED_VERIFICATION
            ):
                self._hint("Condition", concept, resource, facts)
            return
        verification = self._status(resource.get("verificationStatus"))
        if verification in _IGNORED_VERIFICATION:
            return
        if verification in _UNCERTAIN_VERIFICATION and concept is not None:
            # An unconfirmed risk is worth asking about, never a yes.
            text = concept.texts[0] if concept.texts else concept.codings[0][1]
            for fact in matched:
                facts._hint(fact.question, f"{text} ({verification})", _reference(resource))
            return
        born = _birth_date(listed) if _AGES.intersection(resource) else None
        clinical = self._status(resource.get("clinicalStatus"))
        onset = span_of(resource, "onset", born)
        abatement = span_of(resource, "abatement", born)
        recorded = None if onset.last else latest_day(resource.get("recordedDate"))
        day = onset.last or recorded
        ended = abatement.stated and (abatement.last is None or abatement.last <= on)
        dated = None
        for fact in matched:
            if not fact.history:
                if clinical is not None and clinical not in _CURRENT_CLINICAL:
                    continue
                if ended:
                    continue
            if self._recent(fact, day, on):
                if dated is None:
                    dated = _joined(
                        _dated("onset", onset),
                        _dated_on("recorded", recorded),
                        _dated("abated", abatement),
                    )
                facts._show(fact.question, "yes", _reference(resource), dated)

    def _observed(self, resource: Mapping[str, Any]) -> list[FactCodes]:
        """The facts an Observation's code and value show, whatever its date."""
        if _str(resource.get("status")) in _IGNORED_OBSERVATION:
            return []
        code = self.concept(resource.get("code"))
        if code is None:
            return []
        candidates = code.matches.get(_OBSERVED)
        if candidates is None:
            candidates = code.matches[_OBSERVED] = [
                fact for key in code.codings for fact in self._observations.get(key, ())
            ]
        if not candidates:
            return []
        value = self.concept(resource.get("valueCodeableConcept"))
        value_codes = set(value.codings if value is not None else ())
        value_boolean = resource.get("valueBoolean")
        return [
            fact
            for fact in candidates
            if value_codes & fact.value_codes
            or (fact.value_boolean is not None and value_boolean is fact.value_boolean)
        ]

    def _observation(self, resource: Mapping[str, Any], on: date, facts: RecordFacts) -> None:
        shown = self._observed(resource)
        if not shown:
            return
        effective = span_of(resource, "effective")
        issued = latest_day(resource.get("issued"))
        day = effective.last or issued
        for fact in shown:
            if self._recent(fact, day, on):
                dated = _dated("effective", effective) or _dated_on("issued", issued)
                facts._show(fact.question, "yes", _reference(resource), dated)

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
                    (c for c in as_list(resource.get("contained")) if isinstance(c, dict)
                     and c.get("id") == target[1:]),
                    None,
                )  # fmt: skip
            concept = self.concept(medication.get("code")) if medication is not None else None
            if concept is None and isinstance(reference.get("display"), str):
                concept = Concept({"text": reference["display"]})
        matched = self._matches(kind, concept)
        if not matched:
            return
        # An active statement or order is current however long ago it began; one whose
        # period (or validity) has ended, or one without a status, is judged by its date
        # against the fact's window.
        effective = span_of(resource, "effective")
        dispense = resource.get("dispenseRequest")
        validity = dispense.get("validityPeriod") if isinstance(dispense, dict) else None
        valid = (
            Span(latest_day(validity.get("start")), latest_day(validity.get("end")), True)
            if isinstance(validity, dict)
            else _NO_SPAN
        )
        ended = effective.end or valid.end
        authored = latest_day(resource.get("authoredOn"))
        asserted = latest_day(resource.get("dateAsserted"))
        if ended is not None and ended < on:
            day: date | None = ended
        elif status in (None, "unknown"):
            day = effective.last or asserted or authored
        else:
            day = None
        dated = _joined(
            _dated("effective", effective),
            _dated("valid", valid),
            _dated_on("authored", authored),
            _dated_on("asserted", asserted),
        )
        for fact in matched:
            if self._recent(fact, day, on):
                facts._show(fact.question, "yes", _reference(resource), dated)

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
    def _patient(resource: Mapping[str, Any], on: date, facts: RecordFacts) -> None:
        reference = f"Patient/{resource.get('id', '?')}"
        gender = resource.get("gender")
        sex = _SEXES.get(gender) if isinstance(gender, str) else None
        if sex is not None:
            facts._show("sex", sex, reference)
        born = resource.get("birthDate")
        if shows_birth_date(born):
            facts._show("birth_date", born, reference)
        died = resource.get("deceasedDateTime")
        if isinstance(died, str):
            day = latest_day(died)
            # A death dated after the screening day is not yet a death on that day.
            if day is None or day <= on:
                facts.deceased = f"{reference} (died {died[:10]})"
        elif resource.get("deceasedBoolean") is True:
            facts.deceased = reference
