"""Cards from a screening decision: the indicator, a short summary, the reasons with their
sources, what to ask, suggestions and override reasons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from mesoscreen.domain.code_systems import ACTION_SYSTEM
from mesoscreen.domain.decision import Decision
from mesoscreen.domain.knowledge_base import ActionKind, KnowledgeBase
from mesoscreen.domain.vocabulary import Outcome

SUMMARY_LIMIT = 140
INDICATOR = {
    Outcome.CONTRAINDICATED: "critical",
    Outcome.DEFERRED: "warning",
    Outcome.SPECIALIST_CLEARANCE: "warning",
    Outcome.PRECAUTIONS: "info",
    Outcome.INCOMPLETE: "info",
}
OVERRIDE_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/cds-override-reason"
OVERRIDE_REASONS = [
    {"code": "record-out-of-date", "system": OVERRIDE_SYSTEM,
     "display": "The record is out of date; the patient was asked"},
    {"code": "specialist-cleared", "system": OVERRIDE_SYSTEM,
     "display": "A specialist has cleared the patient"},
    {"code": "clinical-judgement", "system": OVERRIDE_SYSTEM,
     "display": "Clinical judgement: benefit outweighs the risk (documented)"},
]  # fmt: skip
SOURCE = {"label": "Mesoscreen scalp mesotherapy screening", "url": "https://mesoscreen.org"}


def _summary(decision: Decision) -> str:
    """Under 140 characters: what the outcome means for the order."""
    reasons = ", ".join(
        dict.fromkeys(f.category.value.replace("_", " ") for f in decision.findings)
    )
    # A deferral without a date (pregnancy, say) ends when the clinician sees it has ended.
    until = (
        f"until {decision.earliest_date.isoformat()}"
        if decision.earliest_date
        else "until the reason has passed"
    )
    text = {
        Outcome.CONTRAINDICATED: f"Scalp mesotherapy contraindicated: {reasons}",
        Outcome.DEFERRED: f"Scalp mesotherapy deferred {until}: {reasons}",
        Outcome.SPECIALIST_CLEARANCE: f"Scalp mesotherapy needs specialist clearance: {reasons}",
        Outcome.PRECAUTIONS: f"Scalp mesotherapy: precautions first ({reasons})",
        Outcome.INCOMPLETE: (
            "Scalp mesotherapy: screening questions still unanswered"
            + (f"; found: {reasons}" if reasons else "")
            if decision.missing
            else f"Scalp mesotherapy not cleared, answers to confirm: {reasons}"
        ),
    }[decision.outcome]
    return text if len(text) < SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 2] + "…"


def _detail(decision: Decision, kb: KnowledgeBase) -> str:
    """Markdown: reasons with sources, what to ask, and the provenance."""
    lines = []
    if decision.findings:
        lines.append("**Reasons**")
        for finding in decision.findings:
            lines.append(
                f"- **{finding.outcome.value}**: {finding.clinician_text.en}  \n"
                f'  _Source: {finding.citation.source}: "{finding.citation.passage}"_'
            )
            if finding.to_confirm:
                otherwise = (
                    f"; if not confirmed: {finding.otherwise.value}"
                    if finding.otherwise is not None
                    else ""
                )
                lines.append(f"  Still to confirm: {', '.join(finding.to_confirm)}{otherwise}")
    if decision.required_actions:
        lines.append("\n**Before treatment**")
        lines += [f"- {a.action.text.en}" for a in decision.required_actions]
    if decision.missing:
        questions = {q.id: q.text.en for q in kb.questions}
        lines.append("\n**Ask the patient** (the record cannot show that a risk is absent)")
        lines += [f"- {questions.get(q, q)}" for q in decision.missing]
    lines.append(
        f"\n_Decision support, not a decision: the clinician decides. Knowledge base "
        f"{decision.knowledge_base_version}; policy: {decision.policy.name}._"
    )
    return "\n".join(lines)


def _suggestions(
    decision: Decision, draft_orders: list[str], patient_reference: str
) -> list[dict[str, Any]]:
    """Remove the draft order when treatment must not go ahead; order what the actions need.

    A delete names one resource (``resourceId`` is a relative reference in CDS Hooks 2.0), so
    there is one delete action per draft order; a created order is a valid R4 ServiceRequest
    for this patient.
    """
    suggestions: list[dict[str, Any]] = []
    if draft_orders and decision.outcome in (Outcome.CONTRAINDICATED, Outcome.DEFERRED):
        suggestions.append(
            {
                "label": "Remove the scalp mesotherapy order",
                "uuid": str(uuid4()),
                "isRecommended": True,
                "actions": [
                    {"type": "delete", "description": f"Remove the draft order {order}",
                     "resourceId": order}
                    for order in draft_orders
                ],
            }
        )  # fmt: skip
    for required in decision.required_actions:
        action = required.action
        if action.kind is ActionKind.ALLERGY_TEST:
            label = "Order an allergy test of the planned products"
        elif action.kind is ActionKind.SPECIALIST_CLEARANCE:
            label = f"Refer for {action.specialty or 'specialist'} clearance"
        else:
            continue
        suggestions.append(
            {
                "label": label,
                "uuid": str(uuid4()),
                "actions": [
                    {
                        "type": "create",
                        "description": label,
                        "resource": {
                            "resourceType": "ServiceRequest",
                            "status": "draft",
                            "intent": "proposal",
                            "subject": {"reference": patient_reference},
                            "code": {
                                "coding": [
                                    {
                                        "system": ACTION_SYSTEM,
                                        "code": action.id,
                                        "display": action.text.en,
                                    }
                                ],
                                "text": action.text.en,
                            },
                        },
                    }
                ],
            }
        )
    return suggestions


@dataclass(frozen=True, slots=True)
class CardTexts:
    """What a decision's card says, whoever it is for: its indicator, summary and detail."""

    indicator: str
    summary: str
    detail: str


def card_texts(decision: Decision, kb: KnowledgeBase) -> CardTexts | None:
    """The texts of the card for ``decision``; None when the record shows it is eligible
    (no card). They depend on the decision alone, so calls that share a decision share them."""
    indicator = INDICATOR.get(decision.outcome)
    if indicator is None:
        return None
    return CardTexts(indicator, _summary(decision), _detail(decision, kb))


def cards_for(
    decision: Decision,
    kb: KnowledgeBase,
    draft_orders: list[str],
    link: str,
    patient_reference: str,
    texts: CardTexts | None = None,
) -> list[dict[str, Any]]:
    """The card for ``decision`` (none when the record shows it is eligible); ``texts`` are
    its ``card_texts`` when they were worked out before."""
    texts = texts if texts is not None else card_texts(decision, kb)
    if texts is None:
        return []
    card: dict[str, Any] = {
        "uuid": str(uuid4()),
        "summary": texts.summary,
        "detail": texts.detail,
        "indicator": texts.indicator,
        "source": SOURCE,
        "overrideReasons": OVERRIDE_REASONS,
        "links": [{"label": "Complete the screening in Mesoscreen", "url": link,
                   "type": "absolute"}],
    }  # fmt: skip
    suggestions = _suggestions(decision, draft_orders, patient_reference)
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "any"
    return [card]
