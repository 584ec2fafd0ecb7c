"""The JSON nesting check reads each byte once: the work grows linearly with the body."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from mesoscreen.entrypoints.api.json_depth import (
    MAX_JSON_DEPTH,
    json_nesting_exceeds,
    scan_json_nesting,
)

# Bodies that made the old check quadratic or that keep the scan going to the end.
HOSTILE: dict[str, Callable[[int], bytes]] = {
    "unclosed run of escaped quotes": lambda n: b"[" * 63 + b'"' + b'\\"' * ((n - 64) // 2),
    "run of escaped backslashes": lambda n: b"[" * 63 + b'"' + b"\\\\" * ((n - 64) // 2),
    "pairs of empty arrays": lambda n: b"[" * 63 + b"[]" * ((n - 63) // 2),
    "many short strings": lambda n: b"[" * 60 + b'"\\"",' * ((n - 60) // 5),
    "one long string": lambda n: b'{"username": "' + b"a" * (n - 16) + b'"}',
    "brackets inside one string": lambda n: b'["' + b"[{" * ((n - 4) // 2) + b'"]',
}


def _python_lines_run(call: Callable[[], Any]) -> int:
    """How many lines of Python ran during ``call()``: the work done, free of clock noise."""
    lines = 0

    def trace(frame: FrameType, event: str, _arg: Any) -> Any:
        nonlocal lines
        if event == "line":
            lines += 1
        return trace

    sys.settrace(trace)
    try:
        call()
    finally:
        sys.settrace(None)
    return lines


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_doubling_a_hostile_body_doubles_the_work_of_the_check(shape: str) -> None:
    """Lines of Python run at 2n bytes are about twice those at n (quadratic would be 4x),
    and no byte is read twice."""
    small, large = HOSTILE[shape](16_384), HOSTILE[shape](32_768)
    work_small = _python_lines_run(lambda: scan_json_nesting(small))
    work_large = _python_lines_run(lambda: scan_json_nesting(large))
    assert work_small > 16_384  # the loop really read the body
    assert 1.8 * work_small <= work_large <= 2.2 * work_small, (work_small, work_large)
    scan = scan_json_nesting(large)
    assert scan.bytes_read <= len(large)
    assert scan.exceeds is False
    assert json_nesting_exceeds(large) is False


def test_deep_brackets_stop_the_scan_at_the_first_level_past_the_limit() -> None:
    """A megabyte of '[' is refused after reading limit + 1 bytes."""
    scan = scan_json_nesting(b"[" * 1_048_576)
    assert scan == type(scan)(exceeds=True, bytes_read=MAX_JSON_DEPTH + 1)


@pytest.mark.parametrize(
    ("body", "exceeds"),
    [
        (b"[" * 65 + b"]" * 65, True),
        (b"[" * 64 + b"]" * 64, False),
        (b'["' + b"[" * 100 + b'"]', False),  # brackets in a string do not nest
        (b'["\\"' + b"[" * 100 + b'"]', False),  # an escaped quote does not end the string
        (b'["\\\\"' + b"[" * 100, True),  # an escaped backslash does not escape the quote
        (b"]" + b"[" * 100, False),  # malformed from the first byte: the parser's to report
    ],
)
def test_strings_and_escapes_are_followed_byte_by_byte(body: bytes, exceeds: bool) -> None:
    """Quotes open and close strings; a backslash escapes exactly the next byte."""
    assert json_nesting_exceeds(body) is exceeds
