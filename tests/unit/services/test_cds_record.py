"""Reading the record for a hook call: through the FhirClient port, within its time budget,
and only the resources that are this patient's."""

from __future__ import annotations

import time
from collections.abc import Mapping

import pytest

from mesoscreen.services.cds_record import (
    FhirServer,
    RecordUnavailableError,
    belongs_to,
    gather_record,
)
from mesoscreen.services.ports import HttpReply

BASE = "https://fhir.example.org/r4"


class ScriptedFhirServer:
    """A FhirClient that gives one scripted reply and remembers what was asked."""

    def __init__(self, reply: HttpReply) -> None:
        self.reply = reply
        self.asked: list[tuple[str, dict[str, str]]] = []

    def get(self, url: str, headers: Mapping[str, str], timeout_seconds: float) -> HttpReply:
        self.asked.append((url, dict(headers)))
        return self.reply


def _server(client: ScriptedFhirServer, deadline: float | None = None) -> FhirServer:
    server = FhirServer(BASE, "token", client)
    return server if deadline is None else FhirServer(BASE, "token", client, deadline=deadline)


def test_a_call_whose_time_budget_is_spent_fetches_nothing_more() -> None:
    """Past the deadline: 412's error at once, and no request leaves."""
    client = ScriptedFhirServer(HttpReply(200, b"{}"))
    with pytest.raises(RecordUnavailableError, match="took too long"):
        _server(client, deadline=time.monotonic() - 1).get("Patient/1", "prefetch missing")
    assert client.asked == []


def test_a_fhir_server_that_times_out_is_unavailable_not_an_error_page() -> None:
    """No answer becomes RecordUnavailableError (412), naming what happened, not the token."""
    client = ScriptedFhirServer(HttpReply(0, failure="ReadTimeout"))
    with pytest.raises(RecordUnavailableError, match="ReadTimeout") as raised:
        _server(client).get("Patient/1", "prefetch missing")
    assert "token" not in str(raised.value)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (HttpReply(404, b"{}"), "answered 404"),
        (HttpReply(200, b"<html>"), "sent no JSON"),
    ],
)
def test_a_fhir_server_that_answers_without_data_makes_the_record_unavailable(
    reply: HttpReply, message: str
) -> None:
    """A status other than 200, or a body that is not JSON, is a 412 naming which."""
    with pytest.raises(RecordUnavailableError, match=message):
        _server(ScriptedFhirServer(reply)).get("Patient/1", "prefetch missing")


def test_the_access_token_is_sent_to_the_server_named_in_the_request_only() -> None:
    """The relative query goes under fhirServer with the bearer token; a page link to another
    host is refused before anything is sent."""
    client = ScriptedFhirServer(HttpReply(200, b'{"resourceType": "Patient", "id": "1"}'))
    assert _server(client).get("Patient/1", "prefetch missing") == {
        "resourceType": "Patient", "id": "1"
    }  # fmt: skip
    assert client.asked == [(f"{BASE}/Patient/1", {"Accept": "application/fhir+json",
                                                   "Authorization": "Bearer token"})]  # fmt: skip
    with pytest.raises(RecordUnavailableError, match="leaves fhirServer"):
        _server(client).get("https://elsewhere.example/Patient/1", "prefetch has more pages")
    assert len(client.asked) == 1


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
        gather_record({"fhirServer": BASE}, "../Patient/2", ScriptedFhirServer(HttpReply(200)))
