"""Screening input read once for every entry point: an intake, a QuestionnaireResponse or a
FHIR Bundle, whose patient it is, and the raw answers it gives the screening.

The command line, the API, the pages, bulk screening and CDS Hooks all read their input
here, so a document gives the same answers (and the same refusals) whichever way it came
in. The kind is told by ``resourceType``: a Bundle is the patient's record (read through the
``RecordFactsReader`` port: value sets and a terminology server), a QuestionnaireResponse is
the intake answered in FHIR (``ResponseAnswersReader``), a JSON object without a
``resourceType`` is an intake; any other FHIR resource is refused, naming what was expected.
A Bundle holds one patient's record (``record_identity``). Every answer read is handed on,
whether or not its question applies: the screening service uses or reports each one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mesoscreen.domain.errors import FhirInputError, IntakeError
from mesoscreen.services.ports import RecordFactsReader, RecordShown, ResponseAnswersReader
from mesoscreen.services.record_identity import bundle_resources, own_resources, record_patient


class InputKind:
    """The kinds of screening input, as the decision JSON's ``input.kind`` names them."""

    INTAKE = "intake"
    BUNDLE = "fhir-bundle"
    QUESTIONNAIRE_RESPONSE = "fhir-questionnaire-response"


@dataclass(frozen=True, slots=True)
class ScreeningInput:
    """Raw intake answers, where they came from, and the record evidence if any."""

    answers: Mapping[str, object]
    kind: str
    evidence: Mapping[str, list[str]] = field(default_factory=dict)
    # "Patient/<id>" when the document names its patient (the decision's FHIR subject).
    patient_reference: str | None = None
    # The dates each record resource was judged by, and hints from uncoded text, per question.
    dates: Mapping[str, str] = field(default_factory=dict)
    hints: Mapping[str, list[str]] = field(default_factory=dict)
    # Set when the record shows the patient has died: such a patient is not screened.
    deceased: str | None = None


def _subject_of(response: Mapping[str, Any]) -> str | None:
    subject = response.get("subject")
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    return reference if isinstance(reference, str) and reference.startswith("Patient/") else None


class IntakeReader:
    """Reads screening input of every kind into raw answers, with whose patient it is."""

    def __init__(self, records: RecordFactsReader, responses: ResponseAnswersReader) -> None:
        self._records = records
        self._responses = responses

    def read(self, document: object, on: date) -> ScreeningInput:
        """The input ``document`` holds, told by its ``resourceType``; FhirInputError naming
        the element when a FHIR document cannot be read (two patients in one Bundle...)."""
        if not isinstance(document, Mapping):
            raise IntakeError("intake", f"must be a JSON object (got a {type(document).__name__})")
        kind = document.get("resourceType")
        if kind is None:
            return ScreeningInput(dict(document), InputKind.INTAKE)
        if kind == "Bundle":
            resources = bundle_resources(document)
            patient = record_patient(resources)
            return self._from_record(resources, on, patient)
        if kind == "QuestionnaireResponse":
            answers = self._responses(document)
            return ScreeningInput(answers, InputKind.QUESTIONNAIRE_RESPONSE, {},
                                  _subject_of(document))  # fmt: skip
        raise FhirInputError(
            f"'resourceType': expected an intake, a Bundle or a QuestionnaireResponse "
            f"(got {str(kind)[:40]!r})",
            field="resourceType",
        )

    def read_record(
        self, resources: list[dict[str, Any]], on: date, patient_id: str
    ) -> ScreeningInput:
        """The input a record gathered for a known patient gives (a CDS Hooks call): the
        resources that name another patient are not read."""
        return self._from_record(own_resources(resources, patient_id), on, patient_id)

    def _from_record(
        self, resources: list[dict[str, Any]], on: date, patient: str | None
    ) -> ScreeningInput:
        facts: RecordShown = self._records.read(resources, on)
        return ScreeningInput(
            dict(facts.answers), InputKind.BUNDLE, facts.evidence,
            f"Patient/{patient}" if patient else None, facts.dates, facts.hints, facts.deceased,
        )  # fmt: skip
