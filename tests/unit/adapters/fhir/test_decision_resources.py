"""Decisions as FHIR R4: valid against fhir.resources' R4B models, and saying what they mean."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import given, settings
from hypothesis import strategies as st

from mesoscreen.adapters.fhir.decision_resources import guidance_response
from mesoscreen.domain.vocabulary import Language, Outcome
from mesoscreen.entrypoints.cli import main
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService
from tests.fhir_checks import path_reaches_a_code, unresolved_references
from tests.intakes import intake
from tests.strategies import SCREENING_DAY, answers_for

ROOT = Path(__file__).parents[4]
SCREENING = ScreeningService(default_knowledge_base())
ON = date(2026, 11, 25)
EXAMPLES = sorted((ROOT / "examples" / "intakes").glob("*.json"))


def _validate(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Validate the Bundle and each resource with its own model; resources by type."""
    get_fhir_model_class("Bundle").model_validate(bundle)
    by_type: dict[str, dict[str, Any]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        by_type.setdefault(resource["resourceType"], resource)
    return by_type


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_decision_validates_as_fhir(example: Path) -> None:
    """GuidanceResponse, Parameters and one DetectedIssue per finding, all valid R4."""
    decision = SCREENING.screen(json.loads(example.read_text()), ON)
    bundle = guidance_response(decision, "Patient/p1")
    _validate(bundle)
    issues = [e["resource"] for e in bundle["entry"]
              if e["resource"]["resourceType"] == "DetectedIssue"]  # fmt: skip
    assert len(issues) == len(decision.findings)


def test_a_finding_carries_severity_evidence_mitigation_and_its_citation() -> None:
    """Stable heart disease: moderate, cardiologist clearance as mitigation, the source."""
    decision = SCREENING.screen(
        json.loads((ROOT / "examples/intakes/05-stable-heart-disease.json").read_text()), ON
    )
    resources = _validate(guidance_response(decision, "Patient/p1"))
    issue = resources["DetectedIssue"]
    assert issue["severity"] == "moderate"
    assert issue["patient"] == {"reference": "Patient/p1"}
    assert any(m["action"]["coding"][0]["code"] == "cardiologist_clearance"
               for m in issue["mitigation"])  # fmt: skip
    assert 'Source: mesotherapy-hair-loss-who-should-avoid.txt: "' in issue["detail"]
    assert issue["reference"].endswith("mesotherapy-hair-loss-who-should-avoid.txt")
    response = resources["GuidanceResponse"]
    assert response["status"] == "success"
    assert any(decision.knowledge_base_hash in i["value"] for i in response["identifier"])
    parameters = resources["Parameters"]
    assert parameters["parameter"][0] == {"name": "outcome", "valueCode": "specialist_clearance"}


def test_an_incomplete_decision_is_data_required_with_the_questions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """From a record that says nothing: data-required, one requirement per question, and the
    record's resources as evidence where a finding rests on them."""
    path = ROOT / "examples/fhir/record-says-nothing.json"
    assert main(["screen", str(path), "--fhir", "--on", "2026-11-25"]) == 0
    resources = _validate(json.loads(capsys.readouterr().out))
    response = resources["GuidanceResponse"]
    assert response["status"] == "data-required"
    asked = {r["codeFilter"][0]["code"][0]["code"] for r in response["dataRequirement"]}
    assert {"cancer_history", "clotting_disorder"} <= asked
    assert response["subject"] == {"reference": "Patient/p2"}


def test_record_evidence_points_at_the_record_resources(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The cancer issue's evidence references the Condition in the record."""
    path = ROOT / "examples/fhir/record-resolved-cancer.json"
    assert main(["screen", str(path), "--fhir", "--on", "2026-11-25"]) == 0
    bundle = json.loads(capsys.readouterr().out)
    _validate(bundle)
    details = [d["reference"] for e in bundle["entry"] if e["resource"]["resourceType"] ==
               "DetectedIssue" for ev in e["resource"].get("evidence", [])
               for d in ev.get("detail", [])]  # fmt: skip
    assert "Condition/c1" in details


@settings(max_examples=150, deadline=None)
@given(answers_for(default_knowledge_base()), st.sampled_from(list(Language)))
def test_any_decision_in_either_language_is_valid_fhir_with_one_issue_per_finding(
    answers: dict[str, Any], language: Language
) -> None:
    """Whatever the answers: valid R4B resources, one DetectedIssue per finding, and
    data-required exactly when the decision is incomplete."""
    decision = SCREENING.screen(answers, SCREENING_DAY)
    bundle = guidance_response(decision, "Patient/p1", language)
    resources = _validate(bundle)
    issues = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "DetectedIssue"]
    assert len(issues) == len(decision.findings)
    incomplete = decision.outcome is Outcome.INCOMPLETE
    assert (resources["GuidanceResponse"]["status"] == "data-required") is incomplete


def test_a_finding_resting_on_unknown_answers_is_a_preliminary_detected_issue() -> None:
    """Heart disease with stability unknown: the clearance issue is preliminary and says what
    is still to confirm and what it becomes otherwise (ADR 0011)."""
    raw = intake("male", cardiovascular_disease="yes", cardiovascular_stable="unknown")
    bundle = guidance_response(SCREENING.screen(raw, ON), "Patient/p1")
    _validate(bundle)
    issues = [e["resource"] for e in bundle["entry"]
              if e["resource"]["resourceType"] == "DetectedIssue"]  # fmt: skip
    (issue,) = [i for i in issues if "cardiovascular_managed" in json.dumps(i["code"])]
    assert issue["status"] == "preliminary"
    assert "Still to confirm: cardiovascular_stable; if not confirmed: deferred" in issue["detail"]


def _ids(bundle: dict[str, Any]) -> set[str]:
    return {bundle["id"], *(e["resource"]["id"] for e in bundle["entry"])}


def test_two_decisions_on_one_day_share_no_resource_id() -> None:
    """Two intakes screened the same day without a patient: every id is the decision's own."""
    first = guidance_response(SCREENING.screen(intake("female", pregnant="yes"), ON))
    second = guidance_response(SCREENING.screen(intake("male", cancer_history="yes"), ON))
    again = guidance_response(SCREENING.screen(intake("female", pregnant="yes"), ON))
    assert not _ids(first) & _ids(second)
    assert not _ids(first) & _ids(again)


def test_a_stored_decision_keeps_its_ids() -> None:
    """The same decision id (a stored screening's) gives the same ids each time."""
    decision = SCREENING.screen(intake("female", pregnant="yes"), ON)
    stored = UUID("0b8f3a52-3c1e-4d4f-9a53-6f3c1f5f8e21")
    assert guidance_response(decision, decision_id=stored) == guidance_response(
        decision, decision_id=stored
    )
    response = guidance_response(decision, decision_id=stored)["entry"][0]["resource"]
    assert {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{stored}"} in response["identifier"]


@settings(max_examples=60, deadline=None)
@given(answers_for(default_knowledge_base()))
def test_references_between_the_decisions_resources_resolve_in_the_bundle(
    answers: dict[str, Any],
) -> None:
    """outputParameters and each detectedIssue are urn:uuid references to entries' fullUrls."""
    bundle = guidance_response(SCREENING.screen(answers, SCREENING_DAY), "Patient/p1")
    assert unresolved_references(bundle) == []
    response, parameters = (e["resource"] for e in bundle["entry"][:2])
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert response["outputParameters"]["reference"] == full_urls[1]
    issues = [p["valueReference"]["reference"] for p in parameters["parameter"]
              if p["name"] == "detectedIssue"]  # fmt: skip
    assert issues == full_urls[2:]


def test_a_data_requirement_filters_on_an_element_that_is_a_code() -> None:
    """Each missing answer is required as data whose codeFilter.path reaches a code."""
    decision = SCREENING.screen({"sex": "female"}, ON)
    response = guidance_response(decision)["entry"][0]["resource"]
    assert len(response["dataRequirement"]) == len(decision.missing)
    for requirement in response["dataRequirement"]:
        for code_filter in requirement["codeFilter"]:
            assert path_reaches_a_code(requirement["type"], code_filter["path"]), code_filter


def test_the_path_check_refuses_a_path_that_ends_on_a_string() -> None:
    """item.linkId of a QuestionnaireResponse is a string: not a code."""
    assert not path_reaches_a_code("QuestionnaireResponse", "item.linkId")
    assert path_reaches_a_code("QuestionnaireResponse", "item.answer.valueCoding")
