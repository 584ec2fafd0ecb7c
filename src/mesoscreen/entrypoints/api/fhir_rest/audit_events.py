"""Audit entries as FHIR R4 AuditEvent resources (after IHE BALP).

Elements as R4 defines them: ``entity.type`` says what kind of thing the entity is
(audit-entity-type: 1 Person, 2 System Object; or the FHIR resource type), ``entity.role``
the part it played (object-role: 1 Patient, 4 Domain Resource, 6 User); an entity that is a
FHIR resource is a reference to it, any other is named by an identifier. The acting user is
``agent.who`` with ``requestor`` true; the server is ``source`` (security-source-type 4,
application server).
"""

from __future__ import annotations

from typing import Any

from mesoscreen.services.audit_chain import canonical_time
from mesoscreen.services.ports import StoredAuditEntry

_DICOM = "http://dicom.nema.org/resources/ontology/DCM"
_OUTCOME = {"success": "0", "failure": "8", "denied": "4"}
_AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
_RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"
_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
CHAIN_HASH = "https://mesoscreen.org/fhir/StructureDefinition/audit-chain-hash"
SUBTYPE_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/audit-event"
USER_SYSTEM = "https://mesoscreen.org/fhir/NamingSystem/user"
ENTITY_SYSTEM = "https://mesoscreen.org/fhir/NamingSystem/"
# The audited kinds of record that are FHIR resources of the same name; others
# (screenings, sessions, users, worklists...) are Mesoscreen records named by identifier.
FHIR_RESOURCE_ENTITIES = frozenset(
    {"AdverseEvent", "AuditEvent", "CarePlan", "Consent", "Organization", "Patient", "Procedure"}
)
_PERSON_ENTITIES = frozenset({"User", "Patient"})


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _entity(entity_type: str, entity_id: str) -> dict[str, Any]:
    """One entity of R4 AuditEvent: what it is, what it was in the event, and which one."""
    if entity_type == "Patient":
        kind, role = _coding(_ENTITY_TYPE, "1", "Person"), _coding(_OBJECT_ROLE, "1", "Patient")
    elif entity_type == "User":
        kind, role = _coding(_ENTITY_TYPE, "1", "Person"), _coding(_OBJECT_ROLE, "6", "User")
    elif entity_type in FHIR_RESOURCE_ENTITIES:
        kind = _coding(_RESOURCE_TYPES, entity_type, entity_type)
        role = _coding(_OBJECT_ROLE, "4", "Domain Resource")
    else:
        kind = _coding(_ENTITY_TYPE, "2", "System Object")
        role = _coding(_OBJECT_ROLE, "4", "Domain Resource")
    what: dict[str, Any] = (
        {"reference": f"{entity_type}/{entity_id}"}
        if entity_type in FHIR_RESOURCE_ENTITIES
        else {"identifier": {"system": ENTITY_SYSTEM + entity_type, "value": entity_id}}
    )
    return {"what": what, "type": kind, "role": role}


def audit_event(stored: StoredAuditEntry) -> dict[str, Any]:
    """The AuditEvent resource of one stored entry; the chain hash goes in an extension."""
    entry = stored.entry
    authentication = entry.event_type in ("user.login", "user.logout")
    agent: dict[str, Any] = {
        "who": {"identifier": {"system": USER_SYSTEM, "value": entry.actor_id}}
        if entry.actor_id
        else {"display": "system"},
        "requestor": True,
    }
    if entry.actor_role:
        agent["role"] = [{"text": entry.actor_role}]
    if entry.source:
        agent["network"] = {"address": entry.source, "type": "2"}  # 2: IP address
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(stored.seq),
        "extension": [{"url": CHAIN_HASH, "valueString": stored.hash}],
        "type": _coding(_DICOM, "110114", "User Authentication")
        if authentication
        else _coding(_AUDIT_TYPE, "rest", "RESTful Operation"),
        "subtype": [{"system": SUBTYPE_SYSTEM, "code": entry.event_type}],
        "action": entry.action.value,
        "recorded": canonical_time(entry.recorded_at),
        "outcome": _OUTCOME[entry.outcome.value],
        "agent": [agent],
        "source": {
            "observer": {"display": "mesoscreen"},
            "type": [_coding(_SOURCE_TYPE, "4", "Application Server")],
        },
    }
    entities: list[dict[str, Any]] = []
    patient_itself = entry.entity_type == "Patient" and entry.entity_id == entry.patient_id
    if entry.entity_type and entry.entity_id and not patient_itself:
        entities.append(_entity(entry.entity_type, entry.entity_id))
    if entry.patient_id:
        entities.append(_entity("Patient", entry.patient_id))
    if entities:
        resource["entity"] = entities
    return resource
