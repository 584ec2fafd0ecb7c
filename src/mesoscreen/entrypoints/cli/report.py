"""The readable screening report: outcome first, then reasons with sources, then next steps."""

from __future__ import annotations

from mesoscreen.domain.decision import Decision, Finding
from mesoscreen.domain.knowledge_base import KnowledgeBase
from mesoscreen.domain.vocabulary import Language, Outcome

_HEADLINES = {
    Outcome.CONTRAINDICATED: "CONTRAINDICATED: do not treat.",
    Outcome.DEFERRED: "DEFERRED: not yet.",
    Outcome.SPECIALIST_CLEARANCE: "SPECIALIST CLEARANCE needed before treatment.",
    Outcome.INCOMPLETE: "INCOMPLETE: answers missing or contradictory; do not treat yet.",
    Outcome.PRECAUTIONS: "PRECAUTIONS: treatment possible once the required actions are done.",
    Outcome.ELIGIBLE: "ELIGIBLE: no contraindication found in the answers given.",
}


def _finding_lines(index: int, finding: Finding, language: Language) -> list[str]:
    """Lines describing one finding with its citation."""
    lines = [
        f"{index}. [{finding.outcome.value}] {finding.rule} ({finding.category.value})",
        f"   {finding.clinician_text.in_language(language)}",
    ]
    if finding.until:
        lines.append(f"   Not before: {finding.until.isoformat()}")
    if finding.lenient_until:
        lines.append(f"   Lenient reading (not in force): {finding.lenient_until.isoformat()}")
    if finding.to_confirm:
        otherwise = (
            f"; if not confirmed: {finding.otherwise.value} ({', '.join(finding.otherwise_rules)})"
            if finding.otherwise is not None
            else ""
        )
        lines.append(f"   Still to confirm: {', '.join(finding.to_confirm)}{otherwise}")
    if finding.conflict:
        readings = ", ".join(
            f"{r.id}{' (stricter)' if r.stricter else ''}" for r in finding.conflict.readings
        )
        lines.append(
            f"   Sources disagree ({finding.conflict.conflict}): readings {readings}; "
            f"policy chose '{finding.conflict.chosen}'."
        )
    if finding.error:
        lines.append(f"   Rule failed ({finding.error}): treated as not cleared.")
    source = finding.citation
    locator = f" {source.locator}" if source.locator else ""
    lines.append(f'   Source: {source.source}{locator}: "{source.passage}"')
    for extra in finding.see_also:
        locator = f" {extra.locator}" if extra.locator else ""
        lines.append(f'   See also: {extra.source}{locator}: "{extra.passage}"')
    return lines


def render_report(decision: Decision, kb: KnowledgeBase, language: Language = Language.EN) -> str:
    """The decision as text a clinician reads top to bottom."""
    lines = [f"Outcome: {_HEADLINES[decision.outcome]}"]
    if decision.earliest_date:
        lines.append(f"Earliest date: {decision.earliest_date.isoformat()}")
    lines.append(f"Screening date: {decision.screening_date.isoformat()}")
    if decision.findings:
        lines += ["", "Reasons:"]
        for index, finding in enumerate(decision.findings, start=1):
            lines += _finding_lines(index, finding, language)
    if decision.missing:
        lines += ["", "Unanswered (ask the patient):"]
        for question_id in decision.missing:
            text = kb.question(question_id).text.in_language(language)
            lines.append(f"  - {question_id}: {text}")
    if decision.not_applicable_answers:
        lines += ["", "Answered although they do not apply (changes nothing):"]
        lines += [f"  - {question_id}" for question_id in decision.not_applicable_answers]
    lines += _next_steps(decision, language)
    lines += [
        "",
        f"Knowledge base {decision.knowledge_base_version} ({decision.knowledge_base_hash})",
        f"Policy: {decision.policy.name}",
        "Decision support for clinicians, never a replacement for their judgement.",
    ]
    return "\n".join(lines)


def _next_steps(decision: Decision, language: Language) -> list[str]:
    """Required actions, excluded ingredients and safer alternatives."""
    lines: list[str] = []
    if decision.required_actions:
        lines += ["", "What to do next:"]
        for action in decision.required_actions:
            lines.append(f"  - {action.action.text.in_language(language)} [{action.action.id}]")
    if decision.excluded_ingredients:
        lines += ["", "Ingredients excluded:"]
        for excluded in decision.excluded_ingredients:
            lines.append(
                f"  - {excluded.name.in_language(language)}: {excluded.reason} "
                f"(finding {excluded.rule})"
                + (
                    f"; lifted once done: {', '.join(excluded.lifted_by)}"
                    if excluded.lifted_by
                    else ""
                )
            )
    if decision.unmatched_allergens:
        names = ", ".join(decision.unmatched_allergens)
        lines.append(f"  Allergens not in the catalogue, check each product by hand: {names}")
    if decision.alternatives:
        lines += ["", "Meanwhile, safer measures:"]
        for alternative in decision.alternatives:
            lines.append(f"  - {alternative.text.in_language(language)}")
    return lines
