"""The services this CDS service offers, and the data each asks the record system to send."""

from __future__ import annotations

from typing import Any

# What a screening reads from the record (see knowledge/valuesets/record_facts.yaml).
PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}"
    "&code=http://loinc.org|82810-3,http://loinc.org|63895-7",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}&status=active",
}

SERVICES: dict[str, dict[str, Any]] = {
    "mesotherapy-order-select": {
        "hook": "order-select",
        "title": "Scalp mesotherapy screening (order selected)",
        "description": "Warns when scalp mesotherapy is selected for a patient whose record "
        "shows a reason to avoid or postpone it, and lists what to ask.",
    },
    "mesotherapy-order-sign": {
        "hook": "order-sign",
        "title": "Scalp mesotherapy screening (order signed)",
        "description": "Checks a scalp mesotherapy order against the patient's record before "
        "it is signed.",
    },
    "mesotherapy-appointment-book": {
        "hook": "appointment-book",
        "title": "Scalp mesotherapy screening (appointment booked)",
        "description": "Checks the record when a scalp mesotherapy session is booked.",
    },
}


def discovery() -> dict[str, Any]:
    """The discovery document (``GET /cds-services``)."""
    return {
        "services": [
            {"id": service_id, **service, "prefetch": dict(PREFETCH)}
            for service_id, service in SERVICES.items()
        ]
    }
