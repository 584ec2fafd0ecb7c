"""Compare a stored JSON document with the one made again from its input, naming the first
place they differ: how a plan, or a decision given to the planner, is shown to be what this
system makes and not an edited or hand-written copy."""

from __future__ import annotations

import math
from collections.abc import Mapping

# Floats survive a JSON round trip exactly; the tolerance only absorbs a database that stores
# numbers as decimals, far below any clinical difference.
_REL_TOL = 1e-9
_ABS_TOL = 1e-12


def shown(value: object) -> str:
    """A short, safe picture of a JSON value for a message (never a whole object)."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    return repr(value)[:40]


def first_difference(
    stored: object, made: object, path: str = "", made_by: str = "planner"
) -> str | None:
    """Where ``stored`` differs from ``made`` (``points[3].volume_ml: stored 0.5, planner
    0.01``), or None when they agree; ``made_by`` names who made ``made`` in the message."""
    where = path or "document"
    if isinstance(made, Mapping):
        if not isinstance(stored, Mapping):
            return f"{where}: stored {shown(stored)}, {made_by} an object"
        for key in made:
            if key not in stored:
                return f"{where}.{key}: missing from the stored plan"
        for key in stored:
            if key not in made:
                return f"{where}.{key}: not a field {made_by} makes"
        for key, value in made.items():
            found = first_difference(
                stored[key], value, f"{path}.{key}" if path else str(key), made_by
            )
            if found:
                return found
        return None
    if isinstance(made, list | tuple):
        if not isinstance(stored, list | tuple) or len(stored) != len(made):
            return f"{where}: stored {shown(stored)}, {made_by} {shown(made)}"
        for index, (left, right) in enumerate(zip(stored, made, strict=True)):
            found = first_difference(left, right, f"{where}[{index}]", made_by)
            if found:
                return found
        return None
    if isinstance(made, bool) or made is None or isinstance(made, str):
        same = type(stored) is type(made) and stored == made
    elif isinstance(made, int | float):
        same = (
            isinstance(stored, int | float)
            and not isinstance(stored, bool)
            and math.isclose(stored, made, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
        )
    else:
        same = stored == made
    return None if same else f"{where}: stored {shown(stored)}, {made_by} {shown(made)}"
