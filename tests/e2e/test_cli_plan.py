"""``mesoscreen plan`` as a clinician runs it: table, JSON, SVG file, refusals with exit 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mesoscreen.entrypoints.cli import main

ROOT = Path(__file__).parents[2]
HEART = str(ROOT / "examples/intakes/05-stable-heart-disease.json")
ELIGIBLE = str(ROOT / "examples/intakes/01-eligible-man.json")


def test_the_table_shows_points_area_volume_depth_sessions_and_the_review_notice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What a clinician reads before injecting."""
    code = main(["plan", "--stage", "norwood-1", "--screening", ELIGIBLE, "--start", "2026-12-01"])
    out = capsys.readouterr().out
    assert code == 0
    for expected in ("points", "cm²", "mL", "mm", "2026-12-01", "2026-12-08", "Review every"):
        assert expected in out


def test_json_gives_points_on_the_head_and_totals_and_the_svg_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Points with x, y, z in cm about 1 cm apart; the map file is an SVG."""
    svg = tmp_path / "map.svg"
    code = main(["plan", "--zones", "vertex", "--screening", ELIGIBLE, "--json",
                 "--svg", str(svg), "--start", "2026-12-01"])  # fmt: skip
    plan = json.loads(capsys.readouterr().out)
    assert code == 0
    assert plan["spacing_cm"] == 1.0
    assert plan["area_cm2"] > 0
    assert plan["total_volume_ml"] == pytest.approx(len(plan["points"]) * 0.01, abs=0.01)
    xyz = [(p["x"], p["y"], p["z"]) for p in plan["points"]]
    nearest = [min(math.dist(p, q) for q in xyz if q != p) for p in xyz]
    assert min(nearest) > 0.85
    assert max(nearest) < 1.15
    assert svg.read_text(encoding="utf-8").startswith("<svg")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage", "norwood-9"], "unknown stage 'norwood-9'"),
        (["--zones", "crown"], "unknown zone 'crown'"),
        (["--zones", "vertex", "--spacing-cm", "3"], "'spacing_cm': expected 0.5 to 2 cm"),
        (["--stage", "norwood-7", "--spacing-cm", "0.5"], "over the session maximum"),
        (["--zones", "vertex", "--ingredient", "minoxidil_0_5", "--screening", HEART,
          "--actions-done", "cardiologist_clearance,dermatologist_supervision"],
         "excluded by finding 'cardiovascular_managed'"),
        (["--zones", "vertex", "--screening", HEART], "not recorded as done"),
        (["--zones", "vertex", "--start", "1/12/2026"], "--start: expected a date"),
    ],
)  # fmt: skip
def test_refusals_exit_2_with_a_message_naming_the_field(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Never a traceback: exit 2 and one clear line on standard error."""
    assert main(["plan", *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
