"""Reading Bulk Data exports: gzip by magic bytes, folders grouped by patient on disk."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

from mesoscreen.adapters.bulk_export import (
    BadLine,
    PatientLines,
    group_by_patient,
    patient_id_of,
    records_from_inputs,
)
from mesoscreen.adapters.ndjson import iter_lines


def _write(path: Path, lines: list[bytes], gz: bool = False) -> Path:
    """Write lines to a plain or gzip file."""
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_lines_are_numbered_from_one_and_blank_lines_skipped(tmp_path: Path) -> None:
    """Numbers point at the real line in the file, blank lines included in the count."""
    path = _write(tmp_path / "a.ndjson", [b'{"a":1}', b"", b'{"a":2}'])
    assert [(ln.number, ln.data) for ln in iter_lines(path)] == [(1, b'{"a":1}'), (3, b'{"a":2}')]


def test_gzip_is_detected_by_content_not_by_name(tmp_path: Path) -> None:
    """A gzip file named .ndjson is still read."""
    path = _write(tmp_path / "b.ndjson", [b'{"a":1}'], gz=True)
    assert [ln.data for ln in iter_lines(path)] == [b'{"a":1}']


def test_the_patient_of_a_resource_comes_from_its_reference() -> None:
    """subject, patient and absolute references all name the patient."""
    assert patient_id_of({"resourceType": "Patient", "id": "p1"}) == "p1"
    assert (
        patient_id_of({"resourceType": "Condition", "subject": {"reference": "Patient/p2"}}) == "p2"
    )
    assert (
        patient_id_of(
            {
                "resourceType": "AllergyIntolerance",
                "patient": {"reference": "https://ehr.example/fhir/Patient/p3/_history/2"},
            }
        )
        == "p3"
    )
    assert patient_id_of({"resourceType": "Condition", "subject": {"reference": "Group/g"}}) is None


def test_a_folder_is_grouped_by_patient_with_bad_lines_reported(tmp_path: Path) -> None:
    """Resources from several files meet under their patient; bad lines name file and line."""
    patients = _write(
        tmp_path / "Patient.ndjson",
        [orjson.dumps({"resourceType": "Patient", "id": pid}) for pid in ("b", "a")],
    )
    conditions = _write(
        tmp_path / "Condition.ndjson.gz",
        [
            orjson.dumps(
                {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/a"}}
            ),
            b"{not json",
            orjson.dumps({"resourceType": "Condition", "id": "c2"}),
            orjson.dumps(
                {"resourceType": "Condition", "id": "c3", "subject": {"reference": "Patient/b"}}
            ),
        ],
        gz=True,
    )
    out = list(group_by_patient([conditions, patients]))
    bad = [r for r in out if isinstance(r, BadLine)]
    groups = [r for r in out if isinstance(r, PatientLines)]
    assert [(b.number, b.reason) for b in bad] == [
        (2, "invalid JSON: unexpected character, expected a string key"),
        (3, "Condition has no Patient reference"),
    ]
    assert [g.patient_id for g in groups] == ["a", "b"]
    assert [orjson.loads(ln.data)["id"] for ln in groups[0].lines] == ["c1", "a"]


def test_inputs_mix_bundle_files_and_folders_in_order(tmp_path: Path) -> None:
    """Files give one record per line; folders give one per patient."""
    bundles = _write(tmp_path / "bundles.ndjson", [b'{"resourceType":"Bundle"}'] * 2)
    folder = tmp_path / "export"
    folder.mkdir()
    _write(folder / "Patient.ndjson", [b'{"resourceType":"Patient","id":"x"}'])
    records = list(records_from_inputs([bundles, folder]))
    assert [r.is_bundle for r in records if isinstance(r, PatientLines)] == [True, True, False]


def test_a_line_over_the_limit_is_reported_with_its_length_and_the_next_line_is_read(
    tmp_path: Path,
) -> None:
    """Plain and gzip: the long line becomes a LongLine with its number and exact length."""
    from mesoscreen.adapters.ndjson import LongLine

    lines = [b'{"a":1}', b"x" * 5000, b'{"a":2}', b"y" * 1024]
    for gz in (False, True):
        path = _write(tmp_path / f"long-{gz}.ndjson", lines, gz)
        found = list(iter_lines(path, max_bytes=1024))
        assert found[1] == LongLine(str(path), 2, 5000)
        assert [(ln.number, ln.data) for ln in found if not isinstance(ln, LongLine)] == [
            (1, b'{"a":1}'), (3, b'{"a":2}'), (4, b"y" * 1024)
        ]  # fmt: skip
