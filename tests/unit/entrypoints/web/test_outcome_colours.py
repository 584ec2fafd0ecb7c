"""Each screening outcome that asks something different of the clinic has its own colour."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STYLESHEET = Path(__file__).parents[4] / "src/mesoscreen/entrypoints/web/static/app.css"


def _colours(selector: str) -> tuple[str, ...]:
    """The background, border and text colours of the rules naming ``selector``."""
    css = re.sub(r"/\*.*?\*/", "", STYLESHEET.read_text("utf-8"), flags=re.S)
    found: dict[str, str] = {}
    for names, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        if selector in [n.strip() for n in names.split(",")]:
            for prop in ("background", "border-color", "border-left-color", "color"):
                match = re.search(rf"(?:^|[;\s]){prop}\s*:\s*([^;]+)", body)
                if match:
                    found[prop] = match.group(1).strip()
    return tuple(sorted(found.items()))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["banner", "reason"])
def test_deferred_and_specialist_clearance_differ_in_colour(kind: str) -> None:
    """Waiting and a specialist's clearance are different steps; they do not share a colour."""
    deferred = _colours(f".{kind}-deferred")
    specialist = _colours(f".{kind}-specialist_clearance")
    assert deferred
    assert specialist
    assert deferred != specialist


def test_every_outcome_banner_has_a_colour_of_its_own() -> None:
    """No two outcome banners look alike."""
    outcomes = ("contraindicated", "deferred", "specialist_clearance", "precautions", "eligible")
    colours = [_colours(f".banner-{o}") for o in outcomes]
    assert all(colours)
    assert len(set(colours)) == len(outcomes)
