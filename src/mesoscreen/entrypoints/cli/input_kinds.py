"""What a screening input file is: an intake, a FHIR Bundle or a QuestionnaireResponse.

Each kind becomes the same raw intake mapping for the engine; a FHIR record also brings the
references behind each fact it shows, which the report and the JSON carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from mesoscreen.adapters.fhir.bundle import is_bundle, resources_of
from mesoscreen.adapters.fhir.questionnaire_response import answers_from_response
from mesoscreen.adapters.fhir.record_facts import RecordReader
from mesoscreen.bootstrap import terminology_service
from mesoscreen.config import Settings
from mesoscreen.knowledge import default_knowledge_base


@dataclass(frozen=True, slots=True)
class ScreeningInput:
    """Raw intake answers, where they came from, and the record evidence if any."""

    answers: object
    kind: str
    evidence: Mapping[str, list[str]] = field(default_factory=dict)
    # "Patient/<id>" when the document names its patient (the decision's FHIR subject).
    patient_reference: str | None = None
    # The dates each record resource was judged by, and hints from uncoded text, per question.
    dates: Mapping[str, str] = field(default_factory=dict)
    hints: Mapping[str, list[str]] = field(default_factory=dict)
    # Set when the record shows the patient has died: such a patient is not screened.
    deceased: str | None = None


def _patient_of_bundle(resources: list[dict[str, object]]) -> str | None:
    ids = [r.get("id") for r in resources if r.get("resourceType") == "Patient"]
    return f"Patient/{ids[0]}" if len(ids) == 1 and isinstance(ids[0], str) else None


def _subject_of(response: Mapping[str, object]) -> str | None:
    subject = response.get("subject")
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    return reference if isinstance(reference, str) and reference.startswith("Patient/") else None


def screening_input(document: object, on: date) -> ScreeningInput:
    """The intake that ``document`` holds, whatever its kind (detected by its resourceType)."""
    if is_bundle(document):
        assert isinstance(document, Mapping)  # noqa: S101 (is_bundle checked it)
        resources = resources_of(document)
        terminology = terminology_service(Settings())
        try:
            facts = RecordReader.default(terminology).read(resources, on)
        finally:
            if terminology is not None:
                terminology.close()
        return ScreeningInput(
            facts.answers, "fhir-bundle", facts.evidence, _patient_of_bundle(resources),
            facts.dates, facts.hints, facts.deceased,
        )  # fmt: skip
    if isinstance(document, Mapping) and document.get("resourceType") == "QuestionnaireResponse":
        answers = answers_from_response(document, default_knowledge_base())
        return ScreeningInput(answers, "fhir-questionnaire-response", {}, _subject_of(document))
    return ScreeningInput(document, "intake")
