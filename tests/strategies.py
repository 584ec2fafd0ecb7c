"""Hypothesis strategies for intakes: any mix of yes, no, unknown and missing answers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from mesoscreen.domain.knowledge_base import AnswerType, KnowledgeBase

SCREENING_DAY = date(2026, 11, 25)
_MISSING = object()


def answers_for(kb: KnowledgeBase) -> st.SearchStrategy[dict[str, Any]]:
    """Intakes over every question: each answer valid for its type, or absent."""
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for question in kb.questions:
        if question.answer_type is AnswerType.YES_NO_UNKNOWN:
            value: st.SearchStrategy[Any] = st.sampled_from(["yes", "no", "unknown"])
        elif question.answer_type is AnswerType.CHOICE:
            value = st.sampled_from([*question.choices, "unknown"])
        elif question.answer_type is AnswerType.DATE:
            value = st.one_of(
                st.just("unknown"),
                st.integers(0, 400).map(
                    lambda days: (SCREENING_DAY - timedelta(days=days)).isoformat()
                ),
            )
        else:
            value = st.one_of(
                st.just("unknown"),
                st.lists(st.sampled_from(["lidocaine", "minoxidil", "peanuts", "EGF"]), max_size=3),
            )
        fields[question.id] = st.one_of(st.just(_MISSING), value)
    return st.fixed_dictionaries(fields).map(
        lambda drawn: {k: v for k, v in drawn.items() if v is not _MISSING}
    )
