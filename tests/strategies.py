"""Hypothesis strategies: intakes (any mix of yes, no, unknown and missing answers), and the
hostile values an outside probe sends (text no database stores, numbers past its integers)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from mesoscreen.domain.knowledge_base import AnswerType, KnowledgeBase

SCREENING_DAY = date(2026, 11, 25)
# A NUL (PostgreSQL refuses it in text and JSON) and lone surrogates (no UTF-8 form).
UNSTORABLE_CHARACTERS = ("\x00", "\ud800", "\udbff", "\udc00", "\udfff")
# Positions in a list are 0..2^31-1; these lie just outside, and far outside, both ends.
PAGE_POSITION_EDGES = (-1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, -(2**63) - 1)
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


def storable_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text a database stores: every character but NUL and the surrogates."""
    alphabet = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
    return st.text(alphabet, min_size=1, max_size=max_size)


def unstorable_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Text with at least one character no database stores, anywhere in it."""
    return st.tuples(
        st.text(max_size=max_size),
        st.sampled_from(UNSTORABLE_CHARACTERS),
        st.text(max_size=max_size),
    ).map("".join)


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Storable text and unstorable text, about half each."""
    return st.one_of(storable_text(max_size), unstorable_text(max_size))


def page_positions() -> st.SearchStrategy[int]:
    """Offsets and limits: ordinary ones, the edges of 0..2^31-1 and far past both ends."""
    return st.one_of(
        st.integers(0, 500),
        st.sampled_from(PAGE_POSITION_EDGES),
        st.integers(-(2**70), 2**70),
    )
