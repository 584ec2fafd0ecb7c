"""The readable screening report: outcome first, then reasons with sources, then next steps.

Every heading and label is in the report's language (``_WORDS``); ids, outcome codes, dates
and quoted source passages stay as they are, so a report can be checked against its JSON.
"""

from __future__ import annotations

from mesoscreen.domain.decision import Decision, Finding
from mesoscreen.domain.knowledge_base import KnowledgeBase, Text
from mesoscreen.domain.vocabulary import Language, Outcome

_HEADLINES = {
    Outcome.CONTRAINDICATED: Text(
        en="CONTRAINDICATED: do not treat.", vi="CHỐNG CHỈ ĐỊNH: không điều trị."
    ),
    Outcome.DEFERRED: Text(en="DEFERRED: not yet.", vi="HOÃN: chưa điều trị lúc này."),
    Outcome.SPECIALIST_CLEARANCE: Text(
        en="SPECIALIST CLEARANCE needed before treatment.",
        vi="CẦN BÁC SĨ CHUYÊN KHOA CHẤP THUẬN trước khi điều trị.",
    ),
    Outcome.INCOMPLETE: Text(
        en="INCOMPLETE: answers missing or contradictory; do not treat yet.",
        vi=(
            "CHƯA ĐỦ THÔNG TIN: cần trả lời đủ các câu hỏi (còn thiếu hoặc mâu thuẫn); "
            "chưa điều trị."
        ),
    ),
    Outcome.PRECAUTIONS: Text(
        en="PRECAUTIONS: treatment possible once the required actions are done.",
        vi="THẬN TRỌNG: có thể điều trị sau khi làm xong các việc cần làm.",
    ),
    Outcome.ELIGIBLE: Text(
        en="ELIGIBLE: no contraindication found in the answers given.",
        vi="ĐỦ ĐIỀU KIỆN: không thấy chống chỉ định trong các câu trả lời.",
    ),
}

_WORDS = {
    "outcome": Text(en="Outcome", vi="Kết quả"),
    "earliest_date": Text(en="Earliest date", vi="Ngày sớm nhất"),
    "screening_date": Text(en="Screening date", vi="Ngày sàng lọc"),
    "reasons": Text(en="Reasons", vi="Lý do"),
    "not_before": Text(en="Not before", vi="Không trước ngày"),
    "lenient": Text(en="Lenient reading (not in force)", vi="Cách hiểu nới lỏng (không áp dụng)"),
    "to_confirm": Text(en="Still to confirm", vi="Còn cần xác nhận"),
    "if_not_confirmed": Text(en="if not confirmed", vi="nếu không xác nhận được"),
    "sources_disagree": Text(en="Sources disagree", vi="Các nguồn không thống nhất"),
    "readings": Text(en="readings", vi="các cách hiểu"),
    "stricter": Text(en="stricter", vi="nghiêm ngặt hơn"),
    "policy_chose": Text(en="policy chose", vi="chính sách chọn"),
    "rule_failed": Text(en="Rule failed", vi="Quy tắc lỗi"),
    "not_cleared": Text(en="treated as not cleared", vi="coi như chưa được phép"),
    "source": Text(en="Source", vi="Nguồn"),
    "see_also": Text(en="See also", vi="Xem thêm"),
    "unanswered": Text(en="Unanswered (ask the patient)", vi="Chưa trả lời (hỏi bệnh nhân)"),
    "not_applicable": Text(
        en="Answered although they do not apply (changes nothing)",
        vi="Đã trả lời dù không áp dụng (không thay đổi kết quả)",
    ),
    "knowledge_base": Text(en="Knowledge base", vi="Cơ sở tri thức"),
    "policy": Text(en="Policy", vi="Chính sách"),
    "decision_support": Text(
        en="Decision support for clinicians, never a replacement for their judgement.",
        vi="Hỗ trợ quyết định cho bác sĩ, không thay thế phán đoán của bác sĩ.",
    ),
    "next": Text(en="What to do next", vi="Việc cần làm tiếp"),
    "excluded": Text(en="Ingredients excluded", vi="Thành phần bị loại trừ"),
    "finding": Text(en="finding", vi="phát hiện"),
    "lifted": Text(en="lifted once done", vi="được bỏ loại trừ khi đã làm"),
    "unmatched": Text(
        en="Allergens not in the catalogue, check each product by hand",
        vi="Chất gây dị ứng không có trong danh mục, kiểm tra từng sản phẩm bằng tay",
    ),
    "alternatives": Text(
        en="Meanwhile, safer measures", vi="Trong lúc chờ, các biện pháp an toàn hơn"
    ),
}


def _w(key: str, language: Language) -> str:
    """A report word in ``language``."""
    return _WORDS[key].in_language(language)


def _finding_lines(index: int, finding: Finding, language: Language) -> list[str]:
    """Lines describing one finding with its citation."""
    lines = [
        f"{index}. [{finding.outcome.value}] {finding.rule} ({finding.category.value})",
        f"   {finding.clinician_text.in_language(language)}",
    ]
    if finding.until:
        lines.append(f"   {_w('not_before', language)}: {finding.until.isoformat()}")
    if finding.lenient_until:
        lines.append(f"   {_w('lenient', language)}: {finding.lenient_until.isoformat()}")
    if finding.to_confirm:
        otherwise = (
            f"; {_w('if_not_confirmed', language)}: {finding.otherwise.value} "
            f"({', '.join(finding.otherwise_rules)})"
            if finding.otherwise is not None
            else ""
        )
        lines.append(f"   {_w('to_confirm', language)}: {', '.join(finding.to_confirm)}{otherwise}")
    if finding.conflict:
        stricter = f" ({_w('stricter', language)})"
        readings = ", ".join(
            f"{r.id}{stricter if r.stricter else ''}" for r in finding.conflict.readings
        )
        lines.append(
            f"   {_w('sources_disagree', language)} ({finding.conflict.conflict}): "
            f"{_w('readings', language)} {readings}; "
            f"{_w('policy_chose', language)} '{finding.conflict.chosen}'."
        )
    if finding.error:
        lines.append(
            f"   {_w('rule_failed', language)} ({finding.error}): {_w('not_cleared', language)}."
        )
    source = finding.citation
    locator = f" {source.locator}" if source.locator else ""
    lines.append(f'   {_w("source", language)}: {source.source}{locator}: "{source.passage}"')
    for extra in finding.see_also:
        locator = f" {extra.locator}" if extra.locator else ""
        lines.append(f'   {_w("see_also", language)}: {extra.source}{locator}: "{extra.passage}"')
    return lines


def render_report(decision: Decision, kb: KnowledgeBase, language: Language = Language.EN) -> str:
    """The decision as text a clinician reads top to bottom."""
    headline = _HEADLINES[decision.outcome].in_language(language)
    lines = [f"{_w('outcome', language)}: {headline}"]
    if decision.earliest_date:
        lines.append(f"{_w('earliest_date', language)}: {decision.earliest_date.isoformat()}")
    lines.append(f"{_w('screening_date', language)}: {decision.screening_date.isoformat()}")
    if decision.findings:
        lines += ["", f"{_w('reasons', language)}:"]
        for index, finding in enumerate(decision.findings, start=1):
            lines += _finding_lines(index, finding, language)
    if decision.missing:
        lines += ["", f"{_w('unanswered', language)}:"]
        for question_id in decision.missing:
            text = kb.question(question_id).text.in_language(language)
            lines.append(f"  - {question_id}: {text}")
    if decision.not_applicable_answers:
        lines += ["", f"{_w('not_applicable', language)}:"]
        lines += [f"  - {question_id}" for question_id in decision.not_applicable_answers]
    lines += _next_steps(decision, language)
    lines += [
        "",
        f"{_w('knowledge_base', language)} {decision.knowledge_base_version} "
        f"({decision.knowledge_base_hash})",
        f"{_w('policy', language)}: {decision.policy.name}",
        _w("decision_support", language),
    ]
    return "\n".join(lines)


def _next_steps(decision: Decision, language: Language) -> list[str]:
    """Required actions, excluded ingredients and safer alternatives."""
    lines: list[str] = []
    if decision.required_actions:
        lines += ["", f"{_w('next', language)}:"]
        for action in decision.required_actions:
            lines.append(f"  - {action.action.text.in_language(language)} [{action.action.id}]")
    if decision.excluded_ingredients:
        lines += ["", f"{_w('excluded', language)}:"]
        for excluded in decision.excluded_ingredients:
            lines.append(
                f"  - {excluded.name.in_language(language)}: {excluded.reason} "
                f"({_w('finding', language)} {excluded.rule})"
                + (
                    f"; {_w('lifted', language)}: {', '.join(excluded.lifted_by)}"
                    if excluded.lifted_by
                    else ""
                )
            )
    if decision.unmatched_allergens:
        names = ", ".join(decision.unmatched_allergens)
        lines.append(f"  {_w('unmatched', language)}: {names}")
    if decision.alternatives:
        lines += ["", f"{_w('alternatives', language)}:"]
        for alternative in decision.alternatives:
            lines.append(f"  - {alternative.text.in_language(language)}")
    return lines
