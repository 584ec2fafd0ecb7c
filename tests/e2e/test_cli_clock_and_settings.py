"""The commands and ``mesoscreen.screen()`` take "today" from the clock and honour the
``policy_file`` setting (issue 20 item 2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from benchmarks.synthetic_export import write_bundle_lines

import mesoscreen
from mesoscreen.entrypoints.cli import main
from tests.fakes import FrozenClock
from tests.intakes import intake

ROOT = Path(__file__).parents[2]
POLICY = ROOT / "examples" / "policies" / "supervised-chronic-disease.yaml"
ELIGIBLE = str(ROOT / "examples/intakes/01-eligible-man.json")
# Deferred under the example policy; the stricter reading without it.
UNSTABLE_DIABETES = intake(insulin_dependent_diabetes="yes", diabetes_stable="no")
FROZEN = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Every command's clock stopped at FROZEN."""
    clock = FrozenClock(FROZEN)
    for module in ("screen_command", "bulk_command", "plan_command", "reminders_command"):
        monkeypatch.setattr(f"mesoscreen.entrypoints.cli.{module}.command_clock", lambda: clock)
    monkeypatch.setattr("mesoscreen.bootstrap.command_clock", lambda: clock)
    return clock


@pytest.fixture
def unstable(tmp_path: Path) -> Path:
    """An intake file whose outcome depends on the policy."""
    path = tmp_path / "unstable.json"
    path.write_bytes(orjson.dumps(UNSTABLE_DIABETES))
    return path


def _screen_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["screen", *args, "--json"]) == 0
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    return document


def test_screen_without_on_screens_on_the_clocks_today(
    frozen: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --on: the decision is dated by the clock, not by the machine's calendar."""
    assert _screen_json(capsys, ELIGIBLE)["screening_date"] == "2031-03-04"


def test_bulk_without_on_screens_on_the_clocks_today(
    frozen: FrozenClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bulk decision carries the clock's date."""
    export = tmp_path / "export.ndjson"
    write_bundle_lines(export, 3)
    out = tmp_path / "out.ndjson"
    assert main(["bulk", str(export), "--out", str(out)]) == 0
    dates = {orjson.loads(line)["screening_date"] for line in out.read_bytes().splitlines()}
    assert dates == {"2031-03-04"}


def test_plan_without_start_begins_on_the_clocks_today(
    frozen: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first session of a plan with no --start is the clock's today."""
    assert main(["plan", "--stage", "norwood-1", "--screening", ELIGIBLE, "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["sessions"][0]["date"] == "2031-03-04"


def test_the_library_screens_on_the_clocks_today(frozen: FrozenClock) -> None:
    """mesoscreen.screen() without on= asks the same clock."""
    assert mesoscreen.screen(intake()).screening_date.isoformat() == "2031-03-04"


def test_screen_honours_the_policy_file_setting(
    unstable: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """MESOSCREEN_POLICY_FILE chooses the readings when --policy is not given."""
    stricter = _screen_json(capsys, str(unstable), "--on", "2026-11-25")
    monkeypatch.setenv("MESOSCREEN_POLICY_FILE", str(POLICY))
    chosen = _screen_json(capsys, str(unstable), "--on", "2026-11-25")
    assert chosen["outcome"] == "deferred"
    assert chosen["outcome"] != stricter["outcome"]
    assert str(chosen["policy"]["name"]).startswith("Example clinic")  # type: ignore[index]


def test_policy_given_on_the_command_line_wins_over_the_setting(
    unstable: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """--policy is read; the setting is not (a broken file named there is never opened)."""
    monkeypatch.setenv("MESOSCREEN_POLICY_FILE", str(tmp_path / "missing.yaml"))
    chosen = _screen_json(capsys, str(unstable), "--on", "2026-11-25", "--policy", str(POLICY))
    assert chosen["outcome"] == "deferred"


def test_bulk_honours_the_policy_file_setting(
    unstable: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Bulk screening reads the same setting, in every worker."""
    export = tmp_path / "export.ndjson"
    write_bundle_lines(export, 40)
    plain, chosen = tmp_path / "plain.ndjson", tmp_path / "chosen.ndjson"
    assert main(["bulk", str(export), "--on", "2026-11-25", "--out", str(plain)]) == 0
    monkeypatch.setenv("MESOSCREEN_POLICY_FILE", str(POLICY))
    assert main(["bulk", str(export), "--on", "2026-11-25", "--out", str(chosen),
                 "--workers", "2"]) == 0  # fmt: skip
    policies = {orjson.loads(line)["policy"]["name"] for line in chosen.read_bytes().splitlines()}
    assert len(policies) == 1
    assert policies.pop().startswith("Example clinic")
    assert plain.read_bytes() != chosen.read_bytes()


def test_plan_honours_the_policy_file_setting(
    unstable: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """plan --screening checks the screening under the policy the setting names: a decision
    made with that policy is made again identically, so it is trusted."""
    monkeypatch.setenv("MESOSCREEN_POLICY_FILE", str(POLICY))
    decision = _screen_json(capsys, str(unstable), "--on", "2026-11-25")
    saved = unstable.with_name("decision.json")
    saved.write_text(json.dumps(decision), encoding="utf-8")
    code = main(["plan", "--stage", "norwood-1", "--screening", str(saved), "--json",
                 "--start", "2027-06-01"])  # fmt: skip
    err = capsys.readouterr().err
    # Deferred: the plan is refused for the screening's outcome, not for a policy mismatch.
    assert code == 2
    assert "cannot make again" not in err
    monkeypatch.delenv("MESOSCREEN_POLICY_FILE")
    assert main(["plan", "--stage", "norwood-1", "--screening", str(saved), "--json"]) == 2
    assert err != capsys.readouterr().err


def test_the_library_honours_the_policy_file_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """mesoscreen.screen() without policy= reads MESOSCREEN_POLICY_FILE too."""
    monkeypatch.setenv("MESOSCREEN_POLICY_FILE", str(POLICY))
    decision = mesoscreen.screen(UNSTABLE_DIABETES, on=datetime(2026, 11, 25).date())
    assert decision.outcome is mesoscreen.Outcome.DEFERRED


def test_a_bad_setting_is_a_configuration_error_exit_78(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An environment value of the wrong form names the setting, one line, exit 78."""
    monkeypatch.setenv("MESOSCREEN_SESSION_IDLE_MINUTES", "soon")
    assert main(["screen", ELIGIBLE, "--on", "2026-11-25"]) == 78
    err = capsys.readouterr().err.strip()
    assert err.startswith("mesoscreen: error: MESOSCREEN_SESSION_IDLE_MINUTES:")
    assert "soon" not in err
