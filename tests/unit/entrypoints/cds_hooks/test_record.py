"""Reading the record for a hook call: the FHIR server seam, its time budget and whose
resources count."""

from __future__ import annotations

import time

import httpx
import pytest

from mesoscreen.entrypoints.api.cds_hooks.record import (
    FhirServer,
    RecordUnavailableError,
    belongs_to,
    gather_record,
)

BASE = "https://fhir.example.org/r4"


def _server(handler: httpx.MockTransport, deadline: float | None = None) -> FhirServer:
    server = FhirServer(BASE, "token", handler)
    return server if deadline is None else FhirServer(BASE, "token", handler, deadline=deadline)


def test_a_call_whose_time_budget_is_spent_fetches_nothing_more() -> None:
    """Past the deadline: 412's error at once, and no request leaves."""
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={}))
    with pytest.raises(RecordUnavailableError, match="took too long"):
        _server(transport, deadline=time.monotonic() - 1).get("Patient/1", "prefetch missing")
    assert seen == []


def test_a_fhir_server_that_times_out_is_unavailable_not_an_error_page() -> None:
    """A timeout becomes RecordUnavailableError (412), naming what happened, not the token."""

    def timing_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(RecordUnavailableError, match="ReadTimeout") as raised:
        _server(httpx.MockTransport(timing_out)).get("Patient/1", "prefetch missing")
    assert "token" not in str(raised.value)


@pytest.mark.parametrize(
    ("resource", "mine"),
    [
        ({"resourceType": "Patient", "id": "1"}, True),
        ({"resourceType": "Patient"}, True),
        ({"resourceType": "Patient", "id": "2"}, False),
        ({"resourceType": "Condition", "subject": {"reference": "Patient/1"}}, True),
        ({"resourceType": "Condition", "subject": {"reference": f"{BASE}/Patient/1"}}, True),
        ({"resourceType": "Condition", "subject": {"reference": "Patient/11"}}, False),
        ({"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/2"}}, False),
        ({"resourceType": "Observation"}, True),
    ],
)
def test_only_resources_that_say_they_are_another_patients_are_dropped(
    resource: dict[str, object], mine: bool
) -> None:
    """A resource without a patient reference is kept: it came from this patient's query."""
    assert belongs_to(resource, "1") is mine


def test_a_patient_id_that_is_not_a_fhir_id_never_reaches_a_url() -> None:
    """gather_record refuses it before building any query."""
    with pytest.raises(ValueError, match="not a FHIR id"):
        gather_record({"fhirServer": BASE}, "../Patient/2")
