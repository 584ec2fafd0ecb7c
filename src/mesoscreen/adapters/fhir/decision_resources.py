"""A decision as FHIR R4: a GuidanceResponse whose outcome is one DetectedIssue per finding.

Every decision has its own id (a new UUID, or the stored screening's id when the caller has
one), and the ids of its resources derive from it, so two decisions never share a resource id
and the same stored decision always gives the same ids. Inside the Bundle each resource is
found at ``urn:uuid:<id>`` and referenced by that URL, so references resolve in the Bundle
itself; the patient and the record resources behind the evidence are references to the
record system. A missing answer is a ``dataRequirement`` for an Observation coded as the
question (``code`` reaches a CodeableConcept; the Questionnaire's items carry the same codes,
so observation-based extraction makes exactly these Observations).

GuidanceResponse is the R4 resource for "the result of evaluating a decision-support module":
its status says whether data are still required (an ``incomplete`` decision is
``data-required`` and lists the questions as ``dataRequirement``). R4 has no direct link from a
GuidanceResponse to its findings, so ``outputParameters`` points at a Parameters resource
holding the outcome, the earliest date and one reference per DetectedIssue; and the
knowledge-base version, hash and clinic policy travel as
identifiers and notes so a stored response can be traced to the rules that made it.
Each DetectedIssue carries the severity, the clinician text, the evidence (the facts, and the
record resources behind them when the screening came from a record), the mitigation (the
actions required) and the citation (source file and verbatim passage).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID, uuid4, uuid5

from mesoscreen.adapters.fhir.questionnaire import QUESTION_SYSTEM
from mesoscreen.domain.code_systems import ACTION_SYSTEM
from mesoscreen.domain.decision import Decision, Finding
from mesoscreen.domain.vocabulary import Language, Outcome

MODULE_URI = "https://mesoscreen.org/fhir/PlanDefinition/scalp-mesotherapy-screening"
RULE_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/screening-rule"
OUTCOME_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/screening-outcome"
KB_SYSTEM = "https://mesoscreen.org/fhir/NamingSystem/knowledge-base"
SOURCE_BASE = "https://mesoscreen.org/sources/"
# DetectedIssue.severity: high | moderate | low.
SEVERITY = {
    Outcome.CONTRAINDICATED: "high",
    Outcome.DEFERRED: "high",
    Outcome.SPECIALIST_CLEARANCE: "moderate",
    Outcome.PRECAUTIONS: "low",
    Outcome.INCOMPLETE: "low",
    Outcome.ELIGIBLE: "low",
}


def _to_confirm(finding: Finding) -> str:
    """What a finding still rests on, and what it becomes if not confirmed."""
    if not finding.to_confirm:
        return ""
    otherwise = f"; if not confirmed: {finding.otherwise.value}" if finding.otherwise else ""
    return f"\n\nStill to confirm: {', '.join(finding.to_confirm)}{otherwise}"


def _id(decision_id: UUID, part: str) -> str:
    """The id of one resource of a decision: stable for the decision, distinct across them."""
    return str(uuid5(decision_id, part))


def _local(resource_id: str) -> str:
    """A reference to a resource of the same Bundle, as its fullUrl."""
    return f"urn:uuid:{resource_id}"


def _evidence(finding: Finding, record: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """One evidence item per fact the rule read, pointing at record resources when known."""
    items = []
    for fact, value in finding.evidence.items():
        shown = value.isoformat() if hasattr(value, "isoformat") else value
        if isinstance(shown, tuple):
            shown = ", ".join(shown)
        item: dict[str, Any] = {
            "code": [
                {"coding": [{"system": QUESTION_SYSTEM, "code": fact}], "text": f"{fact} = {shown}"}
            ]
        }
        references = record.get(fact, ())
        if references:
            item["detail"] = [{"reference": ref} for ref in references]
        items.append(item)
    return items


def detected_issue(
    finding: Finding,
    decision: Decision,
    patient_reference: str | None,
    language: Language = Language.EN,
    record: Mapping[str, Sequence[str]] | None = None,
    *,
    decision_id: UUID,
) -> dict[str, Any]:
    """The DetectedIssue for one finding of the decision ``decision_id``."""
    actions = [a for a in decision.required_actions if finding.rule in a.required_by]
    issue: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": _id(decision_id, f"issue|{finding.rule}"),
        # Preliminary while answers it rests on are still to confirm (ADR 0011).
        "status": "preliminary" if finding.to_confirm else "final",
        "code": {
            "coding": [
                {"system": RULE_SYSTEM, "code": finding.rule},
                {"system": OUTCOME_SYSTEM, "code": finding.outcome.value},
            ],
            "text": f"{finding.category.value}: {finding.outcome.value}",
        },
        "severity": SEVERITY[finding.outcome],
        "identifiedDateTime": decision.screening_date.isoformat(),
        "detail": finding.clinician_text.in_language(language)
        + _to_confirm(finding)
        + f'\n\nSource: {finding.citation.source}: "{finding.citation.passage}"',
        "reference": SOURCE_BASE + finding.citation.source,
    }
    if patient_reference:
        issue["patient"] = {"reference": patient_reference}
    evidence = _evidence(finding, record or {})
    if evidence:
        issue["evidence"] = evidence
    if actions:
        issue["mitigation"] = [
            {
                "action": {
                    "coding": [{"system": ACTION_SYSTEM, "code": a.action.id}],
                    "text": a.action.text.in_language(language),
                }
            }
            for a in actions
        ]
    return issue


def guidance_response(
    decision: Decision,
    patient_reference: str | None = None,
    language: Language = Language.EN,
    record: Mapping[str, Sequence[str]] | None = None,
    decision_id: UUID | None = None,
) -> dict[str, Any]:
    """A ``collection`` Bundle: GuidanceResponse, its output Parameters, then the issues.

    ``decision_id`` names the decision (a stored screening's id); without it the decision is
    a new one with a new UUID.
    """
    decision_id = decision_id or uuid4()
    issues = [
        detected_issue(f, decision, patient_reference, language, record, decision_id=decision_id)
        for f in decision.findings
    ]
    response: dict[str, Any] = {
        "resourceType": "GuidanceResponse",
        "id": _id(decision_id, "response"),
        "identifier": [
            {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{decision_id}"},
            {
                "system": KB_SYSTEM,
                "value": f"{decision.knowledge_base_version}|{decision.knowledge_base_hash}",
            },
        ],
        "moduleUri": MODULE_URI,
        "status": "data-required" if decision.outcome is Outcome.INCOMPLETE else "success",
        "occurrenceDateTime": decision.screening_date.isoformat(),
        "reasonCode": [
            {
                "coding": [{"system": OUTCOME_SYSTEM, "code": decision.outcome.value}],
                "text": decision.outcome.value,
            }
        ],
        "note": [
            {
                "text": f"Outcome: {decision.outcome.value}"
                + (
                    f"; earliest date {decision.earliest_date.isoformat()}"
                    if decision.earliest_date
                    else ""
                )
            },
            {
                "text": f"Knowledge base {decision.knowledge_base_version} "
                f"({decision.knowledge_base_hash}); policy: {decision.policy.name}"
                + (f" ({decision.policy.content_hash})" if decision.policy.content_hash else "")
            },
        ],
    }
    if patient_reference:
        response["subject"] = {"reference": patient_reference}
    parameters: dict[str, Any] = {
        "resourceType": "Parameters",
        "id": _id(decision_id, "output"),
        "parameter": [
            {"name": "outcome", "valueCode": decision.outcome.value},
            *(
                [{"name": "earliestDate", "valueDate": decision.earliest_date.isoformat()}]
                if decision.earliest_date
                else []
            ),
            *(
                {
                    "name": "detectedIssue",
                    "valueReference": {"reference": _local(i["id"]), "type": "DetectedIssue"},
                }
                for i in issues
            ),
        ],
    }
    response["outputParameters"] = {"reference": _local(parameters["id"]), "type": "Parameters"}
    if decision.missing:
        response["dataRequirement"] = [
            {
                "type": "Observation",
                "codeFilter": [{"path": "code", "code": [{"system": QUESTION_SYSTEM, "code": q}]}],
            }
            for q in decision.missing
        ]
    return {
        "resourceType": "Bundle",
        "id": _id(decision_id, "bundle"),
        "type": "collection",
        "entry": [
            {"fullUrl": _local(r["id"]), "resource": r} for r in (response, parameters, *issues)
        ],
    }
