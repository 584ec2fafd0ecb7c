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
