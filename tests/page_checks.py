"""Checks every rendered page must pass: no Python object shown to a person."""

from __future__ import annotations

import re

# What a Python object looks like when a template prints it instead of words.
PYTHON_REPR = re.compile(
    r"&lt;built-in|<built-in|&lt;function |<function |&lt;bound method|<bound method"
    r"| object at 0x[0-9a-f]+|Messages\(|\bUndefined\b|&lt;[A-Za-z_.]+\.[A-Za-z_]+ object"
)


def python_reprs(page: str) -> list[str]:
    """The bits of ``page`` that look like a Python repr (empty when it has none)."""
    return [page[max(m.start() - 40, 0) : m.end() + 40] for m in PYTHON_REPR.finditer(page)]
