"""Answers as they are, as a key: the first place the memos of decisions look.

The same answers are the same intake, so they get the same decision without their check or
their decision key being worked out again (``Screener.decision_key`` is the second place).
"""

from __future__ import annotations

from collections.abc import Mapping

AnswersKey = tuple[tuple[str, object], ...]


def answers_key(answers: Mapping[str, object]) -> AnswersKey | None:
    """``answers`` in their order as a key, when each is a text or a list of texts (a list as
    a tuple); None for any other value, which is then decided by its decision key.

    No answer is a tuple, so a tuple in a key stands only for a list: equal keys are equal
    answers. A record with an allergy gives a list of allergens; without lists such records
    were checked and keyed again each time (6.3 against 0.7 us a small record).
    """
    key: list[tuple[str, object]] = []
    for name, value in answers.items():
        if type(value) is list and all(type(item) is str for item in value):
            value = tuple(value)
        elif type(value) is not str:
            return None
        key.append((name, value))
    return tuple(key)
