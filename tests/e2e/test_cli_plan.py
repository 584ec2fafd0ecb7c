"""``mesoscreen plan`` as a clinician runs it: table, JSON, SVG file, refusals with exit 2."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

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


def test_the_svg_names_the_screening_file_it_was_checked_against(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --screening the map names it; without, it says in red it was not checked."""
    checked, unchecked = tmp_path / "checked.svg", tmp_path / "unchecked.svg"
    assert main(["plan", "--zones", "vertex", "--screening", ELIGIBLE, "--svg", str(checked),
                 "--start", "2026-12-01", "--language", "vi"]) == 0  # fmt: skip
    assert main(["plan", "--zones", "vertex", "--svg", str(unchecked)]) == 0
    capsys.readouterr()
    drawn = checked.read_text(encoding="utf-8")
    assert "Đã đối chiếu với lần sàng lọc ngày" in drawn
    assert "(hồ sơ 01-eligible-man.json)" in drawn
    assert "Chưa đối chiếu" not in drawn
    assert "Not checked against a screening" in unchecked.read_text(encoding="utf-8")


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


def _decision(tmp_path: Path, capsys: pytest.CaptureFixture[str], intake: str) -> dict[str, Any]:
    """The decision JSON `mesoscreen screen --json` prints for ``intake``."""
    assert main(["screen", intake, "--json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def _write(tmp_path: Path, document: object) -> str:
    path = tmp_path / "decision.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_a_decision_printed_by_screen_is_made_again_and_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSON carries its answers; the same knowledge base makes the same decision."""
    decision = _decision(tmp_path, capsys, ELIGIBLE)
    assert decision["input"]["answers"]["sex"] == "male"
    code = main(["plan", "--zones", "vertex", "--screening", _write(tmp_path, decision),
                 "--start", "2026-12-01"])  # fmt: skip
    assert code == 0
    assert "NOTICE: no screening was checked" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: {"outcome": "eligible", "findings": []},
         "'input.answers': missing, so the decision cannot be verified"),
        (lambda d: d | {"excluded_ingredients": []},
         "'excluded_ingredients': the decision is not what the engine makes from its own input"),
        (lambda d: d | {"outcome": "eligible"}, "'outcome': the decision is not what the engine"),
        (lambda d: d | {"knowledge_base": {"version": "0", "hash": "sha256:older"}},
         "'knowledge_base.hash': the decision was made with sha256:older"),
        (lambda d: d | {"policy": d["policy"] | {"hash": "sha256:other"}}, "'policy.hash'"),
        (lambda d: d | {"input": d["input"] | {"answers": d["input"]["answers"]
                                              | {"cardiovascular_disease": "no"}}},
         "the decision is not what the engine makes"),
    ],
)  # fmt: skip
def test_a_hand_written_or_edited_decision_is_refused_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], dict[str, Any]],
    message: str,
) -> None:
    """Heart disease excludes minoxidil; no edit of the decision gets a minoxidil plan out."""
    decision = change(_decision(tmp_path, capsys, HEART))
    code = main(["plan", "--zones", "vertex", "--ingredient", "minoxidil_0_5",
                 "--actions-done", "cardiologist_clearance,dermatologist_supervision",
                 "--screening", _write(tmp_path, decision)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.startswith("mesoscreen: error: --screening ")
    assert err.count("\n") == 1


def test_an_intake_is_screened_today_and_without_a_start_the_plan_starts_today(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No earliest date: today; the JSON gives the dose in mg and the concentration in mg/mL."""
    decision = _decision(tmp_path, capsys, ELIGIBLE)
    answers = decision["input"]["answers"]
    intake = tmp_path / "intake.json"
    intake.write_text(json.dumps(answers), encoding="utf-8")
    assert main(["plan", "--zones", "vertex", "--screening", str(intake), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["sessions"][0]["date"] == date.today().isoformat()
    assert plan["dose"]["unit"] == "mg"
    assert plan["product"]["concentration"]["amount_per_ml"] == 0.1
