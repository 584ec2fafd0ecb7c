"""``FhirR4Documents``: the ``FhirDocuments`` port, written with this package's R4 mappings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mesoscreen.adapters.fhir.consent_resource import consent_resource
from mesoscreen.adapters.fhir.decision_resources import guidance_response
from mesoscreen.adapters.fhir.questionnaire import questionnaire
from mesoscreen.domain.decision import Decision
from mesoscreen.domain.knowledge_base import KnowledgeBase
from mesoscreen.domain.records import Consent, ConsentWithdrawal
from mesoscreen.domain.vocabulary import Language


class FhirR4Documents:
    """Decisions, consents and the intake Questionnaire as FHIR R4 JSON."""

    def guidance_response(
        self,
        decision: Decision,
        patient_reference: str | None,
        language: Language,
        record: Mapping[str, Sequence[str]] | None,
    ) -> dict[str, Any]:
        """A decision as a Bundle: GuidanceResponse, its output Parameters, then the issues."""
        return guidance_response(decision, patient_reference, language, record)

    def questionnaire(self, kb: KnowledgeBase, language: Language) -> dict[str, Any]:
        """The SDC Questionnaire of the knowledge base's intake questions."""
        return questionnaire(kb, language)

    def consent(self, consent: Consent, withdrawal: ConsentWithdrawal | None) -> dict[str, Any]:
        """A signed consent (and its withdrawal, if any) as a FHIR Consent."""
        return consent_resource(consent, withdrawal)
