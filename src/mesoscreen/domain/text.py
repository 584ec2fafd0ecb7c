"""Text that can be stored, and the range of numbers a list can be paged by.

PostgreSQL refuses a NUL character in ``text`` and ``jsonb``; neither database stores a lone
UTF-16 surrogate (U+D800-U+DFFF: it has no UTF-8 form; a decoder joins a proper pair into one
character, so any left in a ``str`` stand alone). Both reach a service only by mistake or on
purpose, from JSON escapes (``"\\u0000"``, ``"\\ud800"``), a query string or a form (``%00``).
The edges check every value they read with these functions before a service sees it, so such
text is refused naming the field, alike on SQLite and PostgreSQL, and never becomes a 500.

Offsets and limits are positions in a list: from 0 to ``MAX_PAGE_POSITION`` (2^31-1, the
largest 32-bit integer), which any database and any real list fit in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from mesoscreen.domain.errors import UnstorableValueError

MAX_PAGE_POSITION = 2**31 - 1

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_reason(text: str) -> str | None:
    """What makes ``text`` unstorable (a NUL character, a lone surrogate), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    position = found.start()
    if found.group() == "\x00":
        return f"must not contain a NUL character (got one at character {position})"
    return (
        "must be valid Unicode text (got a lone UTF-16 surrogate "
        f"U+{ord(found.group()):04X} at character {position})"
    )


def require_storable(text: str, field: str) -> str:
    """``text`` itself; UnstorableValueError naming ``field`` when it cannot be stored."""
    reason = unstorable_reason(text)
    if reason is not None:
        raise UnstorableValueError(field, reason)
    return text


def _unstorable_in(value: object, field: str) -> Iterator[tuple[str, str]]:
    """(field, reason) of each unstorable text in a JSON-like value, keys included."""
    if isinstance(value, str):
        reason = unstorable_reason(value)
        if reason is not None:
            yield field, reason
    elif isinstance(value, Mapping):
        for key, item in value.items():
            key_text = str(key)
            reason = unstorable_reason(key_text)
            if reason is not None:
                yield field or "request body", f"a key {reason}"
                continue
            yield from _unstorable_in(item, f"{field}.{key_text}" if field else key_text)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        for index, item in enumerate(value):
            yield from _unstorable_in(item, f"{field}[{index}]")


def require_storable_values(value: object, field: str = "") -> None:
    """Check every text in a JSON-like value (dicts, lists, strings; keys too); the error
    names the first bad one by its path (``answers.allergens[0]``)."""
    for where, reason in _unstorable_in(value, field):
        raise UnstorableValueError(where, reason)


def require_page_position(value: int, field: str, least: int = 0) -> int:
    """``value`` itself when it lies in ``least``..MAX_PAGE_POSITION; UnstorableValueError
    naming ``field`` otherwise."""
    if least <= value <= MAX_PAGE_POSITION:
        return value
    shown = str(value) if len(str(value)) <= 30 else f"{str(value)[:30]}…"
    raise UnstorableValueError(
        field, f"must be a whole number from {least} to {MAX_PAGE_POSITION} (got {shown})"
    )
