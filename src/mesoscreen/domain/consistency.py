"""Answers that contradict each other, and answers to questions that do not apply.

Every answer given is used or reported. A contradiction (a consistency check of the knowledge
base that holds on the answers as given, or a risk answer to a question that does not apply)
becomes a finding listing the answers, with outcome ``incomplete`` and the action to confirm
them; the rules read the answers the stricter way, so the decision never rests on the lenient
one. Any other answer to a question that does not apply is listed as not applicable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from mesoscreen.domain.conditions import (
    AllOf,
    Answered,
    Condition,
    Facts,
    FactValue,
    Not,
    Truth,
    is_known,
)
from mesoscreen.domain.decision import Finding
from mesoscreen.domain.knowledge_base import (
    AnswerType,
    Citation,
    ConsistencyCheck,
    KnowledgeBase,
    Question,
    Text,
)
from mesoscreen.domain.vocabulary import Category, Outcome

CONFIRM_ACTION = "confirm_contradictory_answers"

_CHECK_TEXT = Text(
    en="These answers contradict each other; a clinician must ask which is right. "
    "Until then: {reading}",
    vi="Các câu trả lời này mâu thuẫn nhau; bác sĩ cần hỏi lại câu nào đúng. "
    "Trong lúc chờ: {reading}",
)
_NOT_APPLICABLE_TEXT = Text(
    en="'{question}' was answered (see the answers) although, by the other answers, it does "
    "not apply. The answer is used (the stricter reading) until a clinician confirms which "
    "is right.",
    vi="Câu '{question}' đã được trả lời (xem các câu trả lời) dù theo các câu trả lời khác "
    "câu này không áp dụng. Câu trả lời vẫn được dùng (cách hiểu nghiêm ngặt hơn) cho đến khi "
    "bác sĩ xác nhận.",
)
_PATIENT_TEXT = Text(
    en="Some of your answers do not agree with each other; your doctor will go through them "
    "with you.",
    vi="Một số câu trả lời của bạn chưa khớp nhau; bác sĩ sẽ xem lại cùng bạn.",
)


def _shown(value: FactValue | None) -> str:
    """An answer as the texts quote it."""
    if value is None:
        return "unknown"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(none named)"
    return value


def _citation(evidence: Mapping[str, FactValue]) -> Citation:
    """A contradiction's source is the answers themselves."""
    return Citation(
        source="intake",
        passage="; ".join(f"{key}: {_shown(value)}" for key, value in evidence.items()),
    )


@dataclass(frozen=True, slots=True)
class _Gated:
    """A question that applies only sometimes, with the facts its condition reads."""

    question: Question
    gate_facts: tuple[str, ...]
    name: str
    text: Text


class ConsistencyChecker:
    """Finds contradictory answers and answers to questions that do not apply."""

    def __init__(self, kb: KnowledgeBase) -> None:
        # Texts are made once: the answers themselves go in the evidence and the citation.
        self._checks: tuple[tuple[ConsistencyCheck, Text, frozenset[str]], ...] = tuple(
            (
                check,
                Text(
                    en=_CHECK_TEXT.en.format(reading=check.stricter_reading.en),
                    vi=_CHECK_TEXT.vi.format(reading=check.stricter_reading.vi),
                ),
                _required_facts(check),
            )
            for check in kb.consistency_checks
        )
        self.value_reads: tuple[tuple[frozenset[str], frozenset[str]], ...] = tuple(
            (required, check.when.facts() | frozenset(check.answers))
            for check, _, required in self._checks
        )
        """Per check: the facts that must be known for it to hold, and every fact whose value
        it or its finding's evidence reads (``Screener.decision_key``)."""
        self._gated = tuple(
            _Gated(
                q,
                tuple(sorted(q.applies_when.facts())),
                f"answer_where_not_asked_{q.id}",
                Text(
                    en=_NOT_APPLICABLE_TEXT.en.format(question=q.text.en),
                    vi=_NOT_APPLICABLE_TEXT.vi.format(question=q.text.vi),
                ),
            )
            for q in kb.questions
            if q.applies_when is not None
        )

    def findings(
        self, given: Facts, on: date, not_applicable: Iterable[str], known: AbstractSet[str]
    ) -> tuple[list[Finding], tuple[str, ...]]:
        """Contradiction findings, and the questions answered harmlessly though not applicable."""
        found: list[Finding] = []
        listed: set[str] = set()
        for check, text, reads in self._checks:
            # A check holds only on answers given; skip it unless all it reads is given.
            if reads <= known and check.when.evaluate(given, on) is Truth.TRUE:
                evidence = {key: given.get(key, "unknown") for key in check.answers}
                listed.update(check.answers)
                found.append(self._finding(check.id, evidence, text))
        skipped = frozenset(not_applicable)
        if skipped.isdisjoint(given):
            return found, ()
        unused: list[str] = []
        for gated in self._gated:
            question = gated.question
            value = given.get(question.id)
            if question.id not in skipped or not is_known(value) or question.id in listed:
                continue
            assert value is not None  # noqa: S101 (is_known checked it)
            if not _is_risk(question, value):
                unused.append(question.id)
                continue
            evidence = {key: given.get(key, "unknown") for key in gated.gate_facts}
            evidence[question.id] = value
            found.append(self._finding(gated.name, evidence, gated.text))
        return found, tuple(unused)

    @staticmethod
    def _finding(name: str, evidence: dict[str, FactValue], text: Text) -> Finding:
        """A contradiction finding: incomplete until a clinician confirms the answers."""
        return Finding(
            rule=name,
            category=Category.CONTRADICTORY_ANSWERS,
            outcome=Outcome.INCOMPLETE,
            clinician_text=text,
            patient_text=_PATIENT_TEXT,
            citation=_citation(evidence),
            evidence=MappingProxyType(evidence),
            actions=(CONFIRM_ACTION,),
        )


def _is_risk(question: Question, value: FactValue) -> bool:
    """Whether an answer could raise risk: the risk answer, or a list naming something."""
    if question.answer_type is AnswerType.TEXT_LIST:
        return isinstance(value, tuple) and bool(value)
    return question.risk_answer is not None and value == question.risk_answer


def _required_facts(check: ConsistencyCheck) -> frozenset[str]:
    """Facts that must be given for the check to hold (only a ``not answered`` part may hold
    on a missing answer, so its facts are not required)."""
    if not isinstance(check.when, AllOf):
        return frozenset() if isinstance(check.when, Not) else check.when.facts()
    required: list[str] = []
    part: Condition
    for part in check.when.parts:
        # Kleene TRUE needs every fact known, except under a `not answered` (missing: TRUE).
        if not (isinstance(part, Not) and isinstance(part.part, Answered)):
            required.extend(part.facts())
    return frozenset(required)
