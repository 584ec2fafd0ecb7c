"""A decision as FHIR R4: a GuidanceResponse whose outcome is one DetectedIssue per finding.

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
from uuid import NAMESPACE_URL, uuid5

from mesoscreen.domain.decision import Decision, Finding
from mesoscreen.domain.vocabulary import Language, Outcome

MODULE_URI = "https://mesoscreen.org/fhir/PlanDefinition/scalp-mesotherapy-screening"
RULE_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/screening-rule"
OUTCOME_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/screening-outcome"
ACTION_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/required-action"
QUESTION_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/intake-question"
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


def _id(*parts: str) -> str:
    """A stable resource id from the parts that identify it."""
    return str(uuid5(NAMESPACE_URL, "|".join(parts)))


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
) -> dict[str, Any]:
    """The DetectedIssue for one finding."""
    actions = [a for a in decision.required_actions if finding.rule in a.required_by]
    issue: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": _id(decision.screening_date.isoformat(), patient_reference or "", finding.rule),
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
) -> dict[str, Any]:
    """A ``collection`` Bundle: GuidanceResponse, its output Parameters, then the issues."""
    issues = [
        detected_issue(f, decision, patient_reference, language, record) for f in decision.findings
    ]
    response: dict[str, Any] = {
        "resourceType": "GuidanceResponse",
        "id": _id(decision.screening_date.isoformat(), patient_reference or "", "response"),
        "identifier": [
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
        "id": _id(decision.screening_date.isoformat(), patient_reference or "", "output"),
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
                    "valueReference": {"reference": f"DetectedIssue/{i['id']}"},
                }
                for i in issues
            ),
        ],
    }
    response["outputParameters"] = {"reference": f"Parameters/{parameters['id']}"}
    if decision.missing:
        response["dataRequirement"] = [
            {
                "type": "QuestionnaireResponse",
                "codeFilter": [
                    {"path": "item.linkId", "code": [{"system": QUESTION_SYSTEM, "code": q}]}
                ],
            }
            for q in decision.missing
        ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{r['id']}", "resource": r}
            for r in (response, parameters, *issues)
        ],
    }
