"""Every ``mesoscreen`` command refuses bad input with one line and the exit code the error
table gives: 2 for bad input, 66 not found, 73 conflict, 69 database unreachable, 78
configuration, and 70 only for a fault (issue 19 item 10, issue 20 item 3)."""

from __future__ import annotations

import gzip
import socket
from pathlib import Path

import orjson
import pytest
from benchmarks.synthetic_export import write_bundle_lines

from mesoscreen.entrypoints import exit_codes
from mesoscreen.entrypoints.cli import main

ROOT = Path(__file__).parents[2]
ELIGIBLE = str(ROOT / "examples/intakes/01-eligible-man.json")
ON = "2026-11-25"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder for the embedded database, with cheap Argon2."""
    monkeypatch.setenv("MESOSCREEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MESOSCREEN_DATABASE_URL", raising=False)
    for name, value in (("TIME_COST", "1"), ("MEMORY_KIB", "8"), ("PARALLELISM", "1")):
        monkeypatch.setenv(f"MESOSCREEN_ARGON2_{name}", value)
    return tmp_path / "data"


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The whole of standard error, which must be one line and no traceback or usage box."""
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert "Usage:" not in err
    assert "╭" not in err
    return err


def _unwritable(tmp_path: Path) -> Path:
    """A path no one can write: its folder is a regular file (so it holds even for root)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    return blocker / "out"


# Bad input: exit 2.


def test_restore_of_a_file_that_is_not_a_database_exits_2_and_changes_nothing(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A text file given to restore is refused as input, naming the file; the database stays."""
    assert main(["clinic", "create", "Hanoi"]) == 0
    before = (data_dir / "mesoscreen.sqlite3").read_bytes()
    capsys.readouterr()
    fake = tmp_path / "notes.txt"
    fake.write_text("this is not a database\n" * 100, encoding="utf-8")
    assert main(["restore", str(fake)]) == exit_codes.INVALID_INPUT
    err = _one_line(capsys)
    assert "notes.txt" in err
    assert "expected an SQLite database" in err
    assert (data_dir / "mesoscreen.sqlite3").read_bytes() == before


def test_restore_of_a_truncated_backup_exits_2(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backup cut short is refused with one line, never a traceback."""
    assert main(["clinic", "create", "Hanoi"]) == 0
    backup = tmp_path / "backup.sqlite3"
    assert main(["backup", str(backup)]) == 0
    backup.write_bytes(backup.read_bytes()[:5000])
    capsys.readouterr()
    assert main(["restore", str(backup)]) == exit_codes.INVALID_INPUT
    assert "backup.sqlite3" in _one_line(capsys)


def test_backup_to_an_unwritable_place_exits_2_naming_it(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OUT that cannot be written is bad input, named."""
    assert main(["clinic", "create", "Hanoi"]) == 0
    capsys.readouterr()
    target = _unwritable(tmp_path)
    assert main(["backup", str(target)]) == exit_codes.INVALID_INPUT
    assert f"OUT {target}: cannot be written" in _one_line(capsys)


def test_an_unwritable_svg_exits_2_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """plan --svg into a place that cannot be written names --svg."""
    target = _unwritable(tmp_path)
    code = main(["plan", "--stage", "norwood-1", "--screening", ELIGIBLE,
                 "--start", "2026-12-01", "--svg", str(target)])  # fmt: skip
    assert code == exit_codes.INVALID_INPUT
    assert f"--svg {target}: cannot be written" in _one_line(capsys)


@pytest.mark.parametrize("option", ["--out", "--errors"])
def test_an_unwritable_bulk_output_exits_2_naming_the_option(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """bulk --out or --errors into a place that cannot be written names the option."""
    export = tmp_path / "export.ndjson"
    write_bundle_lines(export, 3)
    target = _unwritable(tmp_path)
    paths = {"--out": str(tmp_path / "out.ndjson"), "--errors": str(tmp_path / "e.ndjson")}
    paths[option] = str(target)
    code = main(["bulk", str(export), "--on", ON, "--out", paths["--out"],
                 "--errors", paths["--errors"]])  # fmt: skip
    assert code == exit_codes.INVALID_INPUT
    assert f"{option} {target}: cannot be written" in _one_line(capsys)


def test_an_unwritable_audit_export_exits_2(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """audit export OUT that cannot be written names OUT."""
    assert main(["clinic", "create", "Hanoi"]) == 0
    capsys.readouterr()
    target = _unwritable(tmp_path)
    assert main(["audit", "export", str(target)]) == exit_codes.INVALID_INPUT
    assert f"OUT {target}: cannot be written" in _one_line(capsys)


def test_a_fake_gzip_file_in_bulk_exits_2_saying_no_line_was_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Gzip magic bytes followed by anything else: one line naming the file."""
    fake = tmp_path / "export.ndjson.gz"
    fake.write_bytes(b"\x1f\x8b" + b"this is not gzip data\n" * 20)
    out = tmp_path / "out.ndjson"
    assert main(["bulk", str(fake), "--on", ON, "--out", str(out)]) == exit_codes.INVALID_INPUT
    err = _one_line(capsys)
    assert f"{fake}: the gzip data is broken after 0 line(s) read" in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_truncated_gzip_file_in_bulk_exits_2_and_keeps_the_lines_read(
    workers: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The message says how many lines were read, and each of them has its decision in --out."""
    plain = tmp_path / "export.ndjson"
    write_bundle_lines(plain, 150)
    whole = gzip.compress(plain.read_bytes())
    cut = tmp_path / "cut.ndjson.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    out = tmp_path / "out.ndjson"
    code = main(["bulk", str(cut), "--on", ON, "--out", str(out), "--workers", workers])
    assert code == exit_codes.INVALID_INPUT
    err = _one_line(capsys)
    read = int(err.split("broken after ")[1].split(" line(s)")[0])
    assert 0 < read < 150
    decisions = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(decisions) == read
    originals = [orjson.loads(line) for line in plain.read_bytes().splitlines()[:read]]
    first_patients = {
        entry["resource"]["id"]
        for bundle in originals
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "Patient"
    }
    assert {d["patient"].rsplit("/", 1)[-1] for d in decisions} == first_patients


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["bulk", "x.ndjson", "--out", "o", "--workers", "0"], "--workers"),
        (["screen", ELIGIBLE, "--language", "klingon"], "--language"),
        (["screen", ELIGIBLE, "--no-such-option"], "--no-such-option"),
        (["bulk", "x.ndjson"], "--out"),
        (["no-such-command"], "no-such-command"),
        (["screen", ELIGIBLE, "--on", "25/11/2026"], "--on"),
    ],
)
def test_a_bad_option_value_is_one_line_not_a_usage_box(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Click's usage errors come out as one line naming the option, exit 2."""
    assert main(argv) == exit_codes.INVALID_INPUT
    assert named in _one_line(capsys)


def test_help_still_prints_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """--help is not an error."""
    assert main(["screen", "--help"]) == exit_codes.OK
    assert "Usage" in capsys.readouterr().out


# Not bad input: the table's other exit codes.


def test_a_clinic_that_does_not_exist_exits_66(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An admin for a clinic that is not there: not found (EX_NOINPUT)."""
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a long and secret passphrase\n"))
    code = main(["admin", "create", "--username", "boss", "--clinic", "Nowhere",
                 "--password-stdin"])  # fmt: skip
    assert code == exit_codes.NOT_FOUND
    assert "Nowhere" in _one_line(capsys)


def test_a_clinic_created_twice_exits_73(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name that is taken is a conflict with the stored records (EX_CANTCREAT)."""
    assert main(["clinic", "create", "Hanoi"]) == 0
    capsys.readouterr()
    assert main(["clinic", "create", "Hanoi"]) == exit_codes.CONFLICT
    assert "exists" in _one_line(capsys)


def test_an_unreachable_database_exits_69(capsys: pytest.CaptureFixture[str]) -> None:
    """A PostgreSQL server that refuses connections: service unavailable, one line."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://nobody@127.0.0.1:{port}/none?connect_timeout=2"
    assert main(["audit", "verify", "--database", url]) == exit_codes.UNAVAILABLE
    assert "database cannot be reached" in _one_line(capsys)


def test_an_in_memory_embedded_database_is_a_configuration_error_78(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """backup of a database that is not a file: fix the setting (EX_CONFIG)."""
    monkeypatch.setenv("MESOSCREEN_DATABASE_URL", "sqlite:///:memory:")
    assert main(["backup", str(tmp_path / "b.sqlite3")]) == exit_codes.CONFIGURATION
    assert "must be a file" in _one_line(capsys)


def test_only_a_fault_exits_70_with_a_reference_and_no_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug in a command: exit 70, a reference, never the exception's words."""

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret patient words")

    monkeypatch.setattr("mesoscreen.entrypoints.cli.screen_command.render_report", broken)
    assert main(["screen", ELIGIBLE, "--on", ON]) == exit_codes.INTERNAL_ERROR
    err = _one_line(capsys)
    assert err.startswith("mesoscreen: internal error (reference ")
    assert "secret" not in err
