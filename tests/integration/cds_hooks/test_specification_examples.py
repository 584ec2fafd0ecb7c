"""The service called with the CDS Hooks 2.0 specification's own examples: its request
envelope and hook contexts, its feedback bodies and its signed client token."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from mesoscreen.adapters.fhir.http_client import HttpxFhirClient
from mesoscreen.services.cds_tokens import CdsCaller, ClientKeys, TokenRejectedError, TokenVerifier
from tests.integration.cds_hooks import specification_examples as spec
from tests.integration.cds_hooks.conformance import assert_conforms
from tests.integration.cds_hooks.conftest import MESOTHERAPY, FhirServerDouble, Keys
from tests.integration.cds_hooks.hook_requests import (
    BOOK,
    RECORD,
    SELECT,
    SIGN,
    audit_rows,
    call,
    order,
    prefetch_of,
    refusal,
)

SPEC_CLIENTS = {spec.JWT_ISSUER: ClientKeys(jku=(spec.JWT_JKU,))}


def _spec_call(hook: str, context: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The specification's request envelope around one of its hook contexts."""
    return {**copy.deepcopy(spec.CALL_ENVELOPE), "hook": hook,
            "context": copy.deepcopy(context), **extra}  # fmt: skip


def _jwks_server(requests: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if str(request.url) == spec.JWT_JKU:
            return httpx.Response(200, json=spec.JWKS)
        return httpx.Response(404)

    return httpx.MockTransport(handler)


class _At:
    """A clock stopped ``seconds_before_expiry`` before the example token expires."""

    def __init__(self, seconds_before_expiry: int) -> None:
        self.moment = datetime.fromtimestamp(spec.JWT_EXPIRES, UTC) - timedelta(
            seconds=seconds_before_expiry
        )

    def now(self) -> datetime:
        return self.moment

    def today(self) -> date:
        return self.moment.date()


def _verify(
    token: str, audience: str, clients: dict[str, ClientKeys], seconds_before_expiry: int,
    transport: httpx.MockTransport,
) -> CdsCaller:  # fmt: skip
    verifier = TokenVerifier(clients, _At(seconds_before_expiry), HttpxFhirClient(transport))
    return verifier.verify(f"Bearer {token}", audience)


def test_the_specifications_example_token_is_accepted_with_the_key_from_its_jku() -> None:
    """Signature, typ, kid, jku, aud and jti as the specification shows them; no sub needed."""
    fetched: list[httpx.Request] = []
    caller = _verify(spec.JWT, spec.JWT_AUDIENCE, SPEC_CLIENTS, 60, _jwks_server(fetched))
    assert caller.issuer == spec.JWT_ISSUER
    assert caller.jti == "ee22b021-e1b7-4611-ba5b-8eec6a33ac1e"
    assert caller.tenant == "2ddd6c3a-8e9a-44c6-a305-52111ad302a2"
    assert [str(r.url) for r in fetched] == [spec.JWT_JKU]


@pytest.mark.parametrize(
    ("token", "audience", "clients", "seconds_before_expiry", "message"),
    [
        (spec.JWT[:-4] + "AAAA", spec.JWT_AUDIENCE, SPEC_CLIENTS, 60, "Signature"),
        (spec.JWT, spec.JWT_AUDIENCE, SPEC_CLIENTS, -120, "expired"),
        (spec.JWT, spec.JWT_AUDIENCE, SPEC_CLIENTS, 3600, "more than five minutes"),
        (spec.JWT, "https://cds.example.org/cds-services/other", SPEC_CLIENTS, 60, "Audience"),
        (spec.JWT, spec.JWT_AUDIENCE, {spec.JWT_ISSUER: ClientKeys(jwks=spec.JWKS)}, 60,
         "not on this client's allow-list"),
    ],
)  # fmt: skip
def test_the_specifications_example_token_is_refused_when_anything_is_off(
    token: str,
    audience: str,
    clients: dict[str, ClientKeys],
    seconds_before_expiry: int,
    message: str,
) -> None:
    """Tampered, expired, too long-lived, for another endpoint, or its jku not allowed."""
    with pytest.raises(TokenRejectedError, match=message):
        _verify(token, audience, clients, seconds_before_expiry, _jwks_server([]))


@pytest.mark.parametrize(
    ("path", "hook", "context"),
    [
        (SIGN, "order-sign", spec.ORDER_SIGN_CONTEXT),
        (SELECT, "order-select", spec.ORDER_SELECT_CONTEXT),
        (BOOK, "appointment-book", spec.APPOINTMENT_BOOK_CONTEXT),
    ],
)
def test_the_specifications_example_requests_are_answered_with_no_cards(
    make_client: Callable[..., Any],
    keys: Keys,
    fhir_server: FhirServerDouble,
    path: str,
    hook: str,
    context: dict[str, Any],
) -> None:
    """A diet, an antibiotic and a sleep clinic visit are not mesotherapy: 200, no cards, and
    nothing read from the record system."""
    response = call(make_client(), keys, path, _spec_call(hook, context))
    assert response.status_code == 200, response.text
    assert response.json() == {"cards": []}
    assert fhir_server.requests == []


def test_a_mesotherapy_order_among_the_specifications_draft_orders_is_screened_alone(
    make_client: Callable[..., Any], keys: Keys
) -> None:
    """Only the ServiceRequest is mesotherapy: the card removes it and nothing else."""
    context = copy.deepcopy(spec.ORDER_SIGN_CONTEXT)
    context["draftOrders"]["entry"].append({"resource": order()})
    body = _spec_call("order-sign", context, prefetch=prefetch_of(RECORD))
    response = call(make_client(), keys, SIGN, body)
    assert response.status_code == 200, response.text
    assert_conforms(response.json())
    (card,) = response.json()["cards"]
    assert card["indicator"] == "critical"
    deletions = [a["resourceId"] for s in card["suggestions"] for a in s["actions"]
                 if a["type"] == "delete"]  # fmt: skip
    assert deletions == ["ServiceRequest/meso-1"]


def test_the_specifications_appointment_list_is_read_when_it_books_mesotherapy(
    make_client: Callable[..., Any], keys: Keys
) -> None:
    """The hook's example sends a plain list of Appointments; a mesotherapy one is checked."""
    context = copy.deepcopy(spec.APPOINTMENT_BOOK_CONTEXT)
    context["appointments"][0]["serviceType"].append({"coding": [MESOTHERAPY]})
    body = _spec_call("appointment-book", context, prefetch=prefetch_of(RECORD))
    response = call(make_client(), keys, BOOK, body)
    assert response.status_code == 200, response.text
    assert_conforms(response.json())
    assert [c["indicator"] for c in response.json()["cards"]] == ["critical"]


def test_the_specifications_envelope_without_prefetch_is_412_over_plain_http(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble
) -> None:
    """Its fhirServer is http://, which real patient data must not travel over."""
    context = copy.deepcopy(spec.ORDER_SIGN_CONTEXT)
    context["draftOrders"]["entry"].append({"resource": order()})
    response = call(make_client(), keys, SIGN, _spec_call("order-sign", context))
    assert response.status_code == 412
    assert refusal(response)
    assert response.json()["issue"][0]["code"] == "incomplete"
    assert fhir_server.requests == []


def test_the_specifications_feedback_examples_are_recorded_in_the_audit_trail(
    make_client: Callable[..., Any], keys: Keys, database_url: str
) -> None:
    """An accepted suggestion and an override without a reason, each one audit entry."""
    client = make_client()
    for feedback in (spec.FEEDBACK_ACCEPTED, spec.FEEDBACK_OVERRIDDEN):
        response = call(client, keys, SIGN + "/feedback", feedback)
        assert response.status_code == 200, response.text
        assert response.json() == {}
    entries = [e["detail"] for e in audit_rows(database_url, "cds.feedback")]
    (accepted,) = [d for d in entries if "4e0a3a1e-3283-4575-ab82-028d55fe2719" in d]
    assert "e56e1945-20b3-4393-8503-a1a20fd73152" in accepted
    assert any("f6b95768-b1c8-40dc-8385-bf3504b82ffb" in d for d in entries)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"acceptedSuggestions": None}, "'feedback[0].acceptedSuggestions'"),
        ({"outcomeTimestamp": None}, "'feedback[0].outcomeTimestamp'"),
        ({"outcome": "ignored"}, "'feedback[0].outcome'"),
    ],
)
def test_feedback_that_breaks_the_specification_is_400_naming_the_field(
    make_client: Callable[..., Any], keys: Keys, change: dict[str, Any], field: str
) -> None:
    """Accepted needs its suggestions; every item needs its time and a known outcome."""
    item = {**spec.FEEDBACK_ACCEPTED["feedback"][0], **change}
    item = {k: v for k, v in item.items() if v is not None}
    response = call(make_client(), keys, SIGN + "/feedback", {"feedback": [item]})
    assert response.status_code == 400
    assert field in refusal(response)


def test_discovery_has_what_the_specification_requires_of_each_service(
    make_client: Callable[..., Any],
) -> None:
    """hook, description and id; prefetch templates that only use context.patientId."""
    services = make_client().get("/cds-services").json()["services"]
    for service in services:
        assert service["hook"]
        assert service["description"]
        assert service["id"]
        for template in service["prefetch"].values():
            assert template.replace("{{context.patientId}}", "").count("{{") == 0
