"""Audit entries as FHIR R4 AuditEvent resources (after IHE BALP)."""

from __future__ import annotations

from typing import Any

from mesoscreen.services.audit_chain import canonical_time
from mesoscreen.services.ports import StoredAuditEntry

_DICOM = "http://dicom.nema.org/resources/ontology/DCM"
_OUTCOME = {"success": "0", "failure": "8", "denied": "4"}
_AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"


def audit_event(stored: StoredAuditEntry) -> dict[str, Any]:
    """The AuditEvent resource of one stored entry; the chain hash goes in an extension."""
    entry = stored.entry
    rest = entry.event_type in ("user.login", "user.logout")
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(stored.seq),
        "type": (
            {"system": _DICOM, "code": "110114", "display": "User Authentication"}
            if rest
            else {"system": _AUDIT_TYPE, "code": "rest", "display": "RESTful Operation"}
        ),
        "subtype": [{"system": "urn:mesoscreen:audit-event", "code": entry.event_type}],
        "action": entry.action.value,
        "recorded": canonical_time(entry.recorded_at),
        "outcome": _OUTCOME[entry.outcome.value],
        "agent": [
            {
                "who": {"identifier": {"system": "urn:mesoscreen:user", "value": entry.actor_id}}
                if entry.actor_id
                else {"display": "system"},
                "requestor": True,
                **({"role": [{"text": entry.actor_role}]} if entry.actor_role else {}),
                **({"network": {"address": entry.source, "type": "2"}} if entry.source else {}),
            }
        ],
        "source": {"observer": {"display": "mesoscreen"}},
        "extension": [
            {"url": "urn:mesoscreen:audit-chain-hash", "valueString": stored.hash},
        ],
    }
    entities: list[dict[str, Any]] = []
    if entry.entity_type and entry.entity_id:
        entities.append(
            {"what": {"reference": f"{entry.entity_type}/{entry.entity_id}"}, "type": _role(4)}
        )
    if entry.patient_id:
        entities.append({"what": {"reference": f"Patient/{entry.patient_id}"}, "type": _role(1)})
    if entities:
        resource["entity"] = entities
    return resource


def _role(code: int) -> dict[str, str]:
    """An audit entity type (1 person, 4 other)."""
    labels = {1: "Person", 4: "Other"}
    return {
        "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
        "code": str(code),
        "display": labels[code],
    }


def audit_bundle(entries: list[StoredAuditEntry], total: int) -> dict[str, Any]:
    """A searchset Bundle of AuditEvents."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "entry": [{"resource": audit_event(s)} for s in entries],
    }
