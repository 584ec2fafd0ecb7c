"""``mesoscreen bulk``: the same decisions as ``screen``, whatever the input form or engine."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from benchmarks.synthetic_export import (
    ExportGenerator,
    bundle_of,
    write_bulk_folder,
    write_bundle_lines,
)

from mesoscreen.entrypoints.cli import main

ON = "2026-11-25"
PATIENTS = 120


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["bulk", *args, "--on", ON])
    return code, capsys.readouterr().out


def _count(summary: str, row: str) -> int:
    """The figure in a row of the summary table."""
    found = re.search(rf"{row}\s*│\s*(\d+)\s*│", summary)
    assert found is not None, summary
    return int(found.group(1))


def _decisions(path: Path) -> dict[str, dict[str, Any]]:
    return {d["patient"]: d for d in map(orjson.loads, path.read_bytes().splitlines())}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Bundle-per-line export of PATIENTS synthetic patients."""
    path = tmp_path_factory.mktemp("export") / "bundles.ndjson"
    write_bundle_lines(path, PATIENTS)
    return path


def test_bulk_gives_exactly_what_screen_gives_for_each_patient(
    bundles: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outcome, findings, dates and missing questions agree patient by patient."""
    out = tmp_path / "out.ndjson"
    code, summary = _run(capsys, str(bundles), "--out", str(out))
    assert code == 0
    assert _count(summary, "patients screened") == PATIENTS
    bulk = _decisions(out)
    outcomes = set()
    for index, resources in enumerate(ExportGenerator().patients(40)):
        single = tmp_path / f"patient-{index}.json"
        single.write_bytes(orjson.dumps(bundle_of(resources)))
        assert main(["screen", str(single), "--json", "--on", ON]) == 0
        screened = json.loads(capsys.readouterr().out)
        patient = resources[0]["id"]
        for key in ("outcome", "earliest_date", "missing"):
            assert bulk[patient][key] == screened[key], (patient, key)
        assert [f["rule"] for f in bulk[patient]["findings"]] == [
            f["rule"] for f in screened["findings"]
        ]
        assert bulk[patient]["record"] == screened["input"]["evidence"]
        assert bulk[patient].get("record_dates", {}) == screened["input"]["dates"]
        assert bulk[patient].get("record_hints", {}) == screened["input"]["hints"]
        outcomes.add(screened["outcome"])
    assert {"contraindicated", "incomplete"} <= outcomes  # the sample exercises risks


def test_gzip_a_folder_and_two_workers_give_the_same_output(
    bundles: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Byte-identical decisions from plain, gzip and two workers; same decisions from a folder."""
    plain, zipped, parallel, grouped = (tmp_path / f"{n}.ndjson" for n in "abcd")
    gz = tmp_path / "bundles.ndjson.gz"
    with bundles.open("rb") as source, gzip.open(gz, "wb") as target:
        shutil.copyfileobj(source, target)
    folder = tmp_path / "export"
    write_bulk_folder(folder, PATIENTS)
    assert _run(capsys, str(bundles), "--out", str(plain))[0] == 0
    assert _run(capsys, str(gz), "--out", str(zipped))[0] == 0
    assert _run(capsys, str(bundles), "--out", str(parallel), "--workers", "2")[0] == 0
    assert _run(capsys, str(folder), "--out", str(grouped))[0] == 0
    assert zipped.read_bytes() == plain.read_bytes()
    assert parallel.read_bytes() == plain.read_bytes()
    assert _decisions(grouped) == _decisions(plain)


def test_bad_lines_are_reported_with_line_numbers_and_do_not_stop_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Invalid JSON, a non-Bundle, a Bundle without a Patient: reported, counted, exit 1."""
    good = [orjson.dumps(bundle_of(r)).decode() for r in ExportGenerator().patients(3)]
    lines = [good[0], '{"resourceType": "Bundle", "entry": [', good[1], "[1, 2]",
             '{"resourceType": "Bundle", "entry": []}', "", good[2]]  # fmt: skip
    source = tmp_path / "mixed.ndjson"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.ndjson"
    code, summary = _run(capsys, str(source), "--out", str(out))
    assert code == 1
    assert len(_decisions(out)) == 3
    errors = [
        json.loads(x) for x in (tmp_path / "out.ndjson.errors.ndjson").read_text().split("\n") if x
    ]
    assert [(e["line"], e["reason"].split(":")[0]) for e in errors] == [
        (2, "invalid JSON"),
        (4, "'resourceType'"),
        (5, "Bundle has no Patient"),
    ]
    assert _count(summary, "bad lines") == 3


def test_a_line_over_the_limit_is_a_bad_line_for_every_engine_and_input_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One workers, two workers, gzip: the long line is reported with its number, the rest is
    screened, and the outputs agree."""
    good = [orjson.dumps(bundle_of(r)).decode() for r in ExportGenerator().patients(2)]
    limit = max(len(g) for g in good) + 10
    long_line = '{"resourceType": "Bundle", "pad": "' + "x" * (limit + 100) + '"}'
    source = tmp_path / "long.ndjson"
    source.write_text("\n".join([good[0], long_line, good[1]]) + "\n", encoding="utf-8")
    zipped = tmp_path / "long.ndjson.gz"
    zipped.write_bytes(gzip.compress(source.read_bytes()))
    outputs = []
    for name, extra in (("one", (str(source),)), ("two", (str(source), "--workers", "2")),
                        ("gz", (str(zipped),))):  # fmt: skip
        out = tmp_path / f"{name}.ndjson"
        code, summary = _run(capsys, *extra, "--out", str(out), "--max-line-bytes", str(limit))
        assert code == 1
        assert _count(summary, "bad lines") == 1
        (error,) = map(
            json.loads, out.with_name(out.name + ".errors.ndjson").read_text().splitlines()
        )
        assert error["line"] == 2
        assert error["reason"].startswith(f"line too long: {len(long_line)} bytes")
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(_decisions(tmp_path / "one.ndjson")) == 2


def test_a_missing_input_or_a_bad_option_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Clear messages, no traceback."""
    assert main(["bulk", str(tmp_path / "absent.ndjson"), "--out", str(tmp_path / "o")]) == 2
    assert "absent.ndjson" in capsys.readouterr().err
    assert main(["bulk", str(tmp_path), "--out", str(tmp_path / "o"), "--on", "someday"]) == 2
    assert "--on" in capsys.readouterr().err


@pytest.mark.slow
def test_spark_local_mode_gives_the_single_machine_output(
    bundles: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same bytes from Spark (local[2]) as from the local engine, for lines and a folder."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    folder = tmp_path / "export"
    write_bulk_folder(folder, 60)
    local, spark = tmp_path / "local.ndjson", tmp_path / "spark.ndjson"
    assert _run(capsys, str(bundles), str(folder), "--out", str(local))[0] == 0
    code, summary = _run(
        capsys, str(bundles), str(folder), "--out", str(spark), "--engine", "spark",
        "--workers", "2",
    )  # fmt: skip
    assert code == 0
    assert spark.read_bytes() == local.read_bytes()
    assert _count(summary, "patients screened") == PATIENTS + 60


@pytest.mark.slow
def test_spark_reports_a_long_line_as_the_local_engine_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Spark's error file and decisions equal the local engine's, for a file and a folder."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    good = [orjson.dumps(bundle_of(r)).decode() for r in ExportGenerator().patients(2)]
    limit = max(len(g) for g in good) + 10
    source = tmp_path / "long.ndjson"
    long_line = '{"resourceType": "Bundle", "pad": "' + "x" * (limit + 100) + '"}'
    source.write_text("\n".join([good[0], long_line, good[1]]) + "\n", encoding="utf-8")
    folder = tmp_path / "export"
    write_bulk_folder(folder, 5)
    with (folder / "Observation.ndjson").open("a", encoding="utf-8") as handle:
        handle.write('{"resourceType": "Observation", "pad": "' + "y" * limit + '"}\n')
    results = []
    for engine in ("local", "spark"):
        out = tmp_path / f"{engine}.ndjson"
        code, _ = _run(capsys, str(source), str(folder), "--out", str(out), "--engine", engine,
                       "--max-line-bytes", str(limit))  # fmt: skip
        assert code == 1
        errors = out.with_name(out.name + ".errors.ndjson").read_bytes()
        results.append((out.read_bytes(), errors))
    assert results[0] == results[1]
    assert results[0][1].count(b"line too long") == 2


def test_deceased_patients_are_not_screened_and_are_counted_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Their line says not_screened/deceased; the summary counts them outside the screened."""
    patients = list(ExportGenerator().patients(4))
    patients[1][0]["deceasedBoolean"] = True
    patients[2][0]["deceasedDateTime"] = "2024-01-05T08:00:00Z"
    source = tmp_path / "some-dead.ndjson"
    source.write_bytes(b"".join(orjson.dumps(bundle_of(r)) + b"\n" for r in patients))
    out = tmp_path / "out.ndjson"
    code, summary = _run(capsys, str(source), "--out", str(out))
    assert code == 0
    decisions = _decisions(out)
    dead = decisions[patients[1][0]["id"]]
    assert dead == {
        "patient": patients[1][0]["id"],
        "outcome": "not_screened",
        "reason": "deceased",
        "record": {"deceased": [f"Patient/{dead['patient']}"]},
    }
    assert decisions[patients[2][0]["id"]]["reason"] == "deceased"
    assert _count(summary, "patients screened") == 2
    assert _count(summary, "not screened: deceased") == 2
