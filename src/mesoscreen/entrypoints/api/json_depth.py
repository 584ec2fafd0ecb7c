"""How deep a JSON body nests, found in one pass over its bytes before any parser sees it.

The check runs before sign-in on every JSON write, so anyone can make it work: it must be
linear in the body's size whatever the body holds. One loop reads each byte once, keeping
three things: the depth of arrays and objects, whether it is inside a string, and whether the
previous byte there was an escaping backslash. No regular expression (whose backtracking made
an unclosed run of escaped quotes quadratic), no second pass. Malformed JSON is left to the
parser to report; only nesting past the limit is refused here.
"""

from __future__ import annotations

from dataclasses import dataclass

# Deeper than any FHIR Bundle or intake we read (a Bundle's resources nest about 12 levels).
MAX_JSON_DEPTH = 64

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENING = frozenset(b"[{")
_CLOSING = frozenset(b"]}")


@dataclass(frozen=True, slots=True)
class NestingScan:
    """Whether the body nests past the limit, and how many of its bytes were read to know."""

    exceeds: bool
    bytes_read: int


def scan_json_nesting(body: bytes, limit: int = MAX_JSON_DEPTH) -> NestingScan:
    """Read ``body`` once, stopping at the first array or object opened past ``limit``."""
    depth = 0
    in_string = escaped = False
    for position, byte in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPENING:
            depth += 1
            if depth > limit:
                return NestingScan(exceeds=True, bytes_read=position + 1)
        elif byte in _CLOSING:
            depth -= 1
            if depth < 0:  # more closed than opened: malformed, the parser's to report
                return NestingScan(exceeds=False, bytes_read=position + 1)
    return NestingScan(exceeds=False, bytes_read=len(body))


def json_nesting_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``body`` nests arrays and objects more than ``limit`` deep."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # too few brackets to nest that deep, known without the loop
    return scan_json_nesting(body, limit).exceeds
