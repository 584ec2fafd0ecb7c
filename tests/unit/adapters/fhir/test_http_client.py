"""The FhirClient adapter: httpx behind the port, its transport the seam tests replace."""

from __future__ import annotations

import httpx

from mesoscreen.adapters.fhir.http_client import HttpxFhirClient


def test_an_answer_keeps_its_status_and_body_and_the_request_its_headers() -> None:
    """Whatever the server answers is handed back as it came, the headers sent as given."""
    seen: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, content=b'{"resourceType": "OperationOutcome"}')

    reply = HttpxFhirClient(httpx.MockTransport(server)).get(
        "https://fhir.example.org/r4/Patient/1", {"Accept": "application/fhir+json"}, 1.0
    )
    assert (reply.status, reply.body, reply.failure) == (
        404, b'{"resourceType": "OperationOutcome"}', None
    )  # fmt: skip
    assert reply.json() == {"resourceType": "OperationOutcome"}
    assert seen[0].headers["accept"] == "application/fhir+json"


def test_a_server_that_times_out_gives_a_reply_naming_the_failure() -> None:
    """No exception escapes the port: status 0 and the transport error's name."""

    def timing_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    reply = HttpxFhirClient(httpx.MockTransport(timing_out)).get("https://x.example/", {}, 1.0)
    assert (reply.status, reply.failure) == (0, "ReadTimeout")
