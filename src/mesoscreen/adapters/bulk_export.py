"""FHIR Bulk Data exports as patient records: one Bundle per line, or a folder of NDJSON files.

A folder export has one file per resource type, resources linked to their Patient by
reference. Grouping them by patient goes through a temporary SQLite file, so memory stays
flat whatever the export's size: only one patient's resources are in memory at a time.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from mesoscreen.adapters.ndjson import (
    MAX_LINE_BYTES,
    Line,
    LongLine,
    iter_lines,
    long_line_reason,
)

NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
# Where a resource names its patient, by resource type; others are tried in this order.
PATIENT_FIELDS = ("subject", "patient", "beneficiary")
_INSERT_BATCH = 5000


@dataclass(frozen=True, slots=True)
class PatientLines:
    """The raw resources of one patient (a Bundle line, or lines grouped from a folder)."""

    patient_id: str
    lines: tuple[Line, ...]
    is_bundle: bool = False


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be used, with where it is and why (no patient data)."""

    source: str
    number: int
    reason: str

    def as_dict(self) -> dict[str, object]:
        """JSON form for the error file."""
        return {"source": self.source, "line": self.number, "reason": self.reason}


def ndjson_files(folder: Path) -> list[Path]:
    """The NDJSON files of an export folder, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(NDJSON_SUFFIXES))


def patient_id_of(resource: dict[str, object]) -> str | None:
    """The id of the patient a resource belongs to: its own id for a Patient."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) and rid else None
    for field in PATIENT_FIELDS:
        ref = resource.get(field)
        if isinstance(ref, dict):
            target = ref.get("reference")
            if isinstance(target, str) and "Patient/" in target:
                tail = target.rsplit("Patient/", 1)[1].split("/", 1)[0]
                return tail or None
    return None


def _locate(line: Line) -> tuple[str, Line] | BadLine:
    """The patient id a folder line belongs to, or why it cannot be used."""
    try:
        resource = orjson.loads(line.data)
    except orjson.JSONDecodeError as exc:
        return BadLine(line.source, line.number, f"invalid JSON: {exc.msg}")
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return BadLine(line.source, line.number, "not a FHIR resource (no resourceType)")
    patient = patient_id_of(resource)
    if patient is None:
        return BadLine(
            line.source, line.number, f"{resource['resourceType']} has no Patient reference"
        )
    return patient, line


def _too_long(line: LongLine, limit: int) -> BadLine:
    return BadLine(line.source, line.number, long_line_reason(line.length, limit))


def group_by_patient(
    files: Iterable[Path], workdir: Path | None = None, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[PatientLines | BadLine]:
    """Every patient's resources from folder files, grouped on disk; bad lines as they come.

    Bad lines are yielded during the first pass, patients afterwards in id order.
    """
    with tempfile.TemporaryDirectory(dir=workdir, prefix="mesoscreen-bulk-") as tmp:
        db = sqlite3.connect(Path(tmp) / "group.sqlite3")
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute(
                "CREATE TABLE line (patient TEXT, seq INTEGER PRIMARY KEY, "
                "source TEXT, number INTEGER, data BLOB)"
            )
            batch: list[tuple[str, str, int, bytes]] = []
            for path in files:
                for line in iter_lines(path, max_line_bytes):
                    if isinstance(line, LongLine):
                        yield _too_long(line, max_line_bytes)
                        continue
                    located = _locate(line)
                    if isinstance(located, BadLine):
                        yield located
                        continue
                    batch.append((located[0], line.source, line.number, line.data))
                    if len(batch) >= _INSERT_BATCH:
                        _flush(db, batch)
            _flush(db, batch)
            db.execute("CREATE INDEX by_patient ON line (patient, seq)")
            yield from _read_groups(db)
        finally:
            db.close()


def _flush(db: sqlite3.Connection, batch: list[tuple[str, str, int, bytes]]) -> None:
    """Write a batch of located lines and empty it."""
    db.executemany("INSERT INTO line (patient, source, number, data) VALUES (?, ?, ?, ?)", batch)
    batch.clear()


def _read_groups(db: sqlite3.Connection) -> Iterator[PatientLines]:
    """Consecutive rows of one patient as one record."""
    current: str | None = None
    lines: list[Line] = []
    cursor = db.execute("SELECT patient, source, number, data FROM line ORDER BY patient, seq")
    for patient, source, number, data in cursor:
        if patient != current and current is not None:
            yield PatientLines(current, tuple(lines))
            lines = []
        current = patient
        lines.append(Line(source, number, bytes(data)))
    if current is not None:
        yield PatientLines(current, tuple(lines))


def bundle_lines(
    files: Iterable[Path], max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[PatientLines | BadLine]:
    """Each line of Bundle-per-line files as one record (the patient id is found later)."""
    for path in files:
        for line in iter_lines(path, max_line_bytes):
            if isinstance(line, LongLine):
                yield _too_long(line, max_line_bytes)
            else:
                yield PatientLines(patient_id="", lines=(line,), is_bundle=True)


def records_from_inputs(
    inputs: Iterable[Path], max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[PatientLines | BadLine]:
    """Patient records from every input: folders are grouped, files are Bundle per line."""
    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            yield from bundle_lines(files, max_line_bytes)
            files = []
            yield from group_by_patient(ndjson_files(path), max_line_bytes=max_line_bytes)
        else:
            files.append(path)
    yield from bundle_lines(files, max_line_bytes)
