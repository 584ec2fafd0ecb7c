"""Every "today" comes from the clock: only the SystemClock adapter reads the system's date."""

from __future__ import annotations

import ast
from pathlib import Path

import mesoscreen

SOURCE = Path(mesoscreen.__file__).parent
CLOCK = SOURCE / "adapters" / "clock.py"
# Calls that read the wall clock's date or time.
READERS = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today")}


def _readers(path: Path) -> list[str]:
    """``date.today()``, ``datetime.now()`` (also through ``datetime.datetime``) in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        if (name, node.func.attr) in READERS:
            found.append(f"{path.name}:{node.lineno} {name}.{node.func.attr}()")
    return found


def test_only_the_system_clock_reads_the_date_or_the_time() -> None:
    """A module that wants today asks a Clock; the adapter is the one reader."""
    readers = [hit for path in sorted(SOURCE.rglob("*.py")) if path != CLOCK
               for hit in _readers(path)]  # fmt: skip
    assert readers == []


def test_the_check_sees_every_form_of_reading_the_clock(tmp_path: Path) -> None:
    """The walk sees each form a module could use, so the test above can fail."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import datetime as dt\nfrom datetime import date, datetime\n"
        "a = date.today()\nb = datetime.now()\nc = dt.datetime.now()\nd = dt.date.today()\n"
        "e = datetime.utcnow()\nf = date(2026, 1, 1).isoformat()\n",
        encoding="utf-8",
    )
    assert len(_readers(sample)) == 5
    assert len(_readers(CLOCK)) == 1
