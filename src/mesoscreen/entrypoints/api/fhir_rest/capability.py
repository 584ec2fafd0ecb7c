"""The CapabilityStatement of the /fhir base: what it serves and which search parameters."""

from __future__ import annotations

from typing import Any

from mesoscreen import __version__

# The interactions served here, with the search parameters each search honours.
AUDIT_EVENT_SEARCH = {
    "date": ("date", "When the event was recorded (eq, ge, gt, le, lt prefixes)"),
    "patient": ("reference", "The patient the event is about (Patient/<id>)"),
}
COMMON_SEARCH = {
    "_count": ("number", "Matches per page (at most 200; 0 for the total only)"),
}


def _search_params(params: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {"name": name, "type": kind, "documentation": text}
        for name, (kind, text) in {**params, **COMMON_SEARCH}.items()
    ]


# When the capabilities last changed: move it with them.
PUBLISHED = "2026-12-05"


def capability_statement(base: str) -> dict[str, Any]:
    """The CapabilityStatement of the server at ``base``."""
    return {
        "resourceType": "CapabilityStatement",
        "id": "mesoscreen",
        "status": "active",
        "date": PUBLISHED,
        "publisher": "Mesoscreen",
        "kind": "instance",
        "software": {"name": "Mesoscreen", "version": __version__},
        "implementation": {"description": "Mesoscreen clinic records", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "description": "A bearer token from /api/v1/auth/token; an admin's for "
                    "AuditEvent. Only the capabilities are read without one.",
                },
                "resource": [
                    {
                        "type": "AuditEvent",
                        "interaction": [{"code": "search-type"}],
                        "searchParam": _search_params(AUDIT_EVENT_SEARCH),
                    },
                    {"type": "Consent", "interaction": [{"code": "read"}]},
                    {"type": "Questionnaire", "interaction": [{"code": "read"}]},
                ],
            }
        ],
    }
