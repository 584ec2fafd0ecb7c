"""Audit entries as R4 AuditEvents: entity type and role from their own code systems, a
reference only to what is a FHIR resource, the user as the requesting agent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.entrypoints.api.fhir_rest.audit_events import audit_event
from mesoscreen.services.ports import StoredAuditEntry

ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"


def _event(**fields: Any) -> dict[str, Any]:
    entry = AuditEntry(
        "screening.read", AuditAction.READ, AuditOutcome.SUCCESS,
        datetime(2026, 11, 25, 9, tzinfo=UTC), **fields,
    )  # fmt: skip
    resource = audit_event(StoredAuditEntry(7, entry, "0" * 64, "f" * 64))
    get_fhir_model_class("AuditEvent").model_validate(resource)
    return resource


def _codes(entity: dict[str, Any]) -> tuple[tuple[str, str], tuple[str, str]]:
    kind, role = entity["type"], entity["role"]
    return (kind["system"], kind["code"]), (role["system"], role["code"])


def test_a_record_that_is_not_a_fhir_resource_is_a_system_object_named_by_identifier() -> None:
    """A screening: type 2 System Object, role 4 Domain Resource, no made-up reference; the
    patient: type 1 Person, role 1 Patient, referenced."""
    event = _event(entity_type="Screening", entity_id="s1", patient_id="p1", actor_id="u1",
                   actor_role="clinician", source="192.0.2.4")  # fmt: skip
    screening, patient = event["entity"]
    assert "reference" not in screening["what"]
    assert screening["what"]["identifier"]["value"] == "s1"
    assert _codes(screening) == ((ENTITY_TYPE, "2"), (OBJECT_ROLE, "4"))
    assert patient["what"] == {"reference": "Patient/p1"}
    assert _codes(patient) == ((ENTITY_TYPE, "1"), (OBJECT_ROLE, "1"))
    (agent,) = event["agent"]
    assert agent["requestor"] is True
    assert agent["who"]["identifier"]["value"] == "u1"
    assert agent["network"] == {"address": "192.0.2.4", "type": "2"}
    assert event["source"]["type"][0]["code"] == "4"


@pytest.mark.parametrize("kind", ["Consent", "AdverseEvent", "Procedure"])
def test_a_fhir_resource_is_referenced_and_typed_by_its_resource_type(kind: str) -> None:
    """type from resource-types, role 4 Domain Resource."""
    (entity,) = _event(entity_type=kind, entity_id="x1")["entity"]
    assert entity["what"] == {"reference": f"{kind}/x1"}
    assert _codes(entity) == ((RESOURCE_TYPES, kind), (OBJECT_ROLE, "4"))


def test_a_patient_read_names_the_patient_once() -> None:
    """The entity and the patient are the same: one entity, role Patient."""
    (entity,) = _event(entity_type="Patient", entity_id="p1", patient_id="p1")["entity"]
    assert _codes(entity) == ((ENTITY_TYPE, "1"), (OBJECT_ROLE, "1"))


def test_a_user_is_a_person_in_the_role_of_user() -> None:
    """Account changes: the user entity is type 1 Person, role 6 User."""
    (entity,) = _event(entity_type="User", entity_id="u2")["entity"]
    assert _codes(entity) == ((ENTITY_TYPE, "1"), (OBJECT_ROLE, "6"))
