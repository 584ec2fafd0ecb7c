"""A scripted record system: it discovers the services, fills their prefetch templates from a
FHIR test Bundle (or lets the service fetch from its FHIR server) and calls each one; the card
says what the command line says for the same Bundle."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mesoscreen.entrypoints.cli import main
from mesoscreen.services.record_identity import bundle_resources
from tests.integration.cds_hooks.conformance import assert_conforms
from tests.integration.cds_hooks.conftest import (
    FHIR_SERVER,
    MESOTHERAPY,
    FhirServerDouble,
    Keys,
    fill_prefetch,
)
from tests.integration.cds_hooks.hook_requests import call

EXAMPLES = sorted((Path(__file__).parents[3] / "examples" / "fhir").glob("*.json"))
INDICATOR = {
    "contraindicated": "critical",
    "deferred": "warning",
    "specialist_clearance": "warning",
    "precautions": "info",
    "incomplete": "info",
}


def _cli_outcome(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["screen", str(path), "--json", "--on", "2026-11-25"]) == 0
    return str(json.loads(capsys.readouterr().out)["outcome"])


def _context(hook: str, patient_id: str) -> dict[str, Any]:
    """What the record system knows at the hook: the patient and the draft order or booking."""
    context: dict[str, Any] = {"userId": "PractitionerRole/123", "patientId": patient_id}
    if hook == "appointment-book":
        booked = {"resourceType": "Appointment", "id": "apt-1", "status": "proposed",
                  "serviceType": [{"coding": [MESOTHERAPY]}]}  # fmt: skip
        context["appointments"] = {"resourceType": "Bundle", "entry": [{"resource": booked}]}
        return context
    draft = {"resourceType": "ServiceRequest", "id": "meso-1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{patient_id}"},
             "code": {"coding": [MESOTHERAPY]}}  # fmt: skip
    context["draftOrders"] = {"resourceType": "Bundle", "entry": [{"resource": draft}]}
    if hook == "order-select":
        context["selections"] = ["ServiceRequest/meso-1"]
    return context


@pytest.mark.parametrize("prefetching", [True, False], ids=["prefetch", "fhir-server"])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_each_service_gives_the_card_of_the_command_lines_outcome_for_the_same_record(
    make_client: Callable[..., Any],
    keys: Keys,
    fhir_server: FhirServerDouble,
    capsys: pytest.CaptureFixture[str],
    example: Path,
    prefetching: bool,
) -> None:
    """Same record, same engine, same outcome, by prefetch or by the FHIR server."""
    expected = INDICATOR[_cli_outcome(example, capsys)]
    resources = bundle_resources(json.loads(example.read_text(encoding="utf-8")))
    (patient_id,) = [r["id"] for r in resources if r["resourceType"] == "Patient"]
    fhir_server.resources = resources
    client = make_client()
    for service in client.get("/cds-services").json()["services"]:
        body: dict[str, Any] = {
            "hook": service["hook"],
            "hookInstance": f"{service['id']}-{example.stem}-{prefetching}",
            "fhirServer": FHIR_SERVER,
            "fhirAuthorization": {"access_token": "t", "token_type": "Bearer",
                                  "expires_in": 300, "scope": "user/*.read",
                                  "subject": "mesoscreen"},
            "context": _context(service["hook"], patient_id),
        }  # fmt: skip
        if prefetching:
            body["prefetch"] = fill_prefetch(service["prefetch"], patient_id, resources)
        response = call(client, keys, f"/cds-services/{service['id']}", body)
        assert response.status_code == 200, response.text
        assert_conforms(response.json())
        assert [c["indicator"] for c in response.json()["cards"]] == [expected]
    assert (fhir_server.requests == []) is prefetching
