"""``mesoscreen screen`` on a FHIR Bundle: the record's risks, with evidence, and what to ask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mesoscreen.entrypoints.cli import main

ROOT = Path(__file__).parents[2]


def test_a_record_with_a_remitted_cancer_is_contraindicated_with_its_evidence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Remission is still a history; the entered-in-error diabetes counts for nothing."""
    path = ROOT / "examples/fhir/record-resolved-cancer.json"
    assert main(["screen", str(path), "--json", "--on", "2026-11-25"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["outcome"] == "contraindicated"
    assert {f["rule"] for f in decision["findings"]} >= {"cancer_history", "allergy_history"}
    assert decision["input"]["evidence"]["cancer_history"] == ["Condition/c1"]
    assert decision["input"]["evidence"]["anticoagulant_use"] == ["MedicationStatement/m1"]
    assert "insulin_dependent_diabetes" in decision["missing"]


def test_a_record_that_says_nothing_is_incomplete_and_lists_what_to_ask(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The report's 'Unanswered (ask the patient)' section lists the safety questions."""
    path = ROOT / "examples/fhir/record-says-nothing.json"
    assert main(["screen", str(path), "--on", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Outcome: INCOMPLETE")
    assert "Unanswered (ask the patient):" in out
    assert "cancer_history" in out
    assert "From the record:\n  sex: Patient/p2" in out


def test_a_malformed_bundle_exits_2_naming_the_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No traceback: the bad entry is named."""
    path = tmp_path / "bad.json"
    path.write_text('{"resourceType": "Bundle", "entry": [{"fullUrl": "urn:x"}]}', "utf-8")
    assert main(["screen", str(path)]) == 2
    assert "Bundle.entry[0].resource" in capsys.readouterr().err


def _deceased_record(tmp_path: Path) -> Path:
    record = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p9", "gender": "female",
                      "deceasedDateTime": "2025-06-01"}},
        {"resource": {"resourceType": "Condition", "id": "c1", "code": {"coding": [
            {"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "C50.9"}]}}},
    ]}  # fmt: skip
    path = tmp_path / "deceased.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def test_a_deceased_patient_is_not_screened_and_the_report_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No outcome, no findings: the report says plainly that the patient has died."""
    path = _deceased_record(tmp_path)
    assert main(["screen", str(path), "--on", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("NOT SCREENED: the record shows this patient has died")
    assert "Patient/p9 (died 2025-06-01)" in out
    assert "Outcome:" not in out
    assert main(["screen", str(path), "--json", "--on", "2026-11-25"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["outcome"] == "not_screened"
    assert document["reason"] == "deceased"


def test_hints_and_dates_from_the_record_are_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Uncoded 'Neoplasm of prostate' is a question to ask; a dated infection shows its date."""
    record = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p8", "gender": "male"}},
        {"resource": {"resourceType": "Condition", "id": "c1",
                      "code": {"text": "Neoplasm of prostate"}}},
        {"resource": {"resourceType": "Condition", "id": "c2", "onsetDateTime": "2026-11-20",
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10",
                                           "code": "B35.0"}]}}},
    ]}  # fmt: skip
    path = tmp_path / "hinted.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    assert main(["screen", str(path), "--on", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert "cancer_history: the record mentions 'Neoplasm of prostate' (Condition/c1)" in out
    assert "treatment_area_wound_or_infection: Condition/c2 (onset 2026-11-20)" in out


def test_no_plan_is_made_from_a_deceased_patients_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan --screening` on the record of a patient who has died: refused, exit 2."""
    path = _deceased_record(tmp_path)
    code = main(["plan", "--stage", "norwood-3", "--screening", str(path),
                 "--start", "2026-12-01"])  # fmt: skip
    assert code == 2
    assert "has died" in capsys.readouterr().err
