"""The CDS Hooks service as a record system meets it: discovery, cards, prefetch or fetch,
feedback in the audit trail, and every token it must refuse."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from tests.integration.cds_hooks.conformance import assert_conforms
from tests.integration.cds_hooks.conftest import (
    ISSUER,
    JKU_ISSUER,
    JKU_URL,
    MESOTHERAPY,
    FhirServerDouble,
    Keys,
    fill_prefetch,
    jwk,
)
from tests.integration.cds_hooks.hook_requests import (
    BASE,
    BOOK,
    RECORD,
    SELECT,
    SIGN,
    audit_rows,
    call,
    hook_request,
    order,
    prefetch_of,
    refusal,
)


def test_a_scripted_record_system_discovers_fills_prefetch_and_calls_each_service(
    make_client: Callable[..., Any], keys: Keys
) -> None:
    """Discover, fill each service's templates from a FHIR test bundle, call it, read cards."""
    client = make_client()
    for service in client.get("/cds-services").json()["services"]:
        prefetch = fill_prefetch(service["prefetch"], "1288992", RECORD)
        assert prefetch["observations"]["entry"] == []  # heart rate is not asked for
        assert len(prefetch["conditions"]["entry"]) == 1  # nor another patient's diabetes
        context: dict[str, Any] = {}
        if service["hook"] == "appointment-book":
            appointment = {"resourceType": "Appointment", "id": "apt-1", "status": "proposed",
                           "serviceType": [{"coding": [MESOTHERAPY]}]}  # fmt: skip
            context["appointments"] = {"resourceType": "Bundle",
                                       "entry": [{"resource": appointment}]}  # fmt: skip
        body = hook_request(service["hook"], prefetch=prefetch, **context)
        response = call(client, keys, f"/cds-services/{service['id']}", body)
        assert response.status_code == 200, response.text
        assert_conforms(response.json())
        assert [c["indicator"] for c in response.json()["cards"]] == ["critical"]


def test_discovery_lists_three_services_with_their_hooks_andprefetch_of(
    make_client: Callable[..., Any],
) -> None:
    """GET /cds-services needs no token and names order-select, order-sign, appointment-book."""
    services = make_client().get("/cds-services").json()["services"]
    assert {s["hook"] for s in services} == {"order-select", "order-sign", "appointment-book"}
    for service in services:
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert "82810-3" in service["prefetch"]["observations"]


def test_a_contraindicating_record_gives_a_critical_card_with_sources_and_suggestions(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble
) -> None:
    """Remitted cancer: critical; remove the order; allergy test; override reasons; a link."""
    response = call(make_client(), keys, SIGN, hook_request(prefetch=prefetch_of(RECORD)))
    assert response.status_code == 200, response.text
    assert_conforms(response.json())
    (card,) = response.json()["cards"]
    assert card["indicator"] == "critical"
    assert len(card["summary"]) < 140
    assert card["summary"].startswith("Scalp mesotherapy contraindicated")
    assert 'Source: mesotherapy-hair-loss-who-should-avoid.txt: "' in card["detail"]
    assert "**Ask the patient**" in card["detail"]
    assert card["source"]["label"]
    labels = {s["label"]: s for s in card["suggestions"]}
    (remove,) = labels["Remove the scalp mesotherapy order"]["actions"]
    assert remove["type"] == "delete"
    assert remove["resourceId"] == "ServiceRequest/meso-1"
    allergy_test = labels["Order an allergy test of the planned products"]["actions"][0]
    assert allergy_test["type"] == "create"
    get_fhir_model_class("ServiceRequest").model_validate(allergy_test["resource"])
    assert allergy_test["resource"]["subject"] == {"reference": "Patient/1288992"}
    assert {r["code"] for r in card["overrideReasons"]} >= {"clinical-judgement"}
    assert card["links"][0]["type"] == "absolute"
    assert card["links"][0]["url"].startswith(BASE)
    assert fhir_server.requests == []  # everything came by prefetch


def test_without_prefetch_the_record_is_fetched_with_the_given_authorization(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble
) -> None:
    """The FHIR server double answers each template's query; the bearer token is passed on."""
    fhir_server.resources = copy.deepcopy(RECORD)
    response = call(make_client(), keys, SIGN, hook_request())
    assert response.json()["cards"][0]["indicator"] == "critical"
    assert {r.url.path.removeprefix("/r4/").split("?")[0] for r in fhir_server.requests} >= {
        "Patient/1288992", "Condition", "AllergyIntolerance", "Observation",
    }  # fmt: skip
    assert all(
        r.headers["Authorization"] == "Bearer some-opaque-fhir-access-token"
        for r in fhir_server.requests
    )


@pytest.mark.parametrize("fault", ["no-server", "server-error"])
def test_no_data_either_way_is_412(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble, fault: str
) -> None:
    """Prefetch missing and the FHIR server absent or failing: 412 with a clear message."""
    body = hook_request()
    if fault == "no-server":
        del body["fhirServer"]
    else:
        fhir_server.fail_with = 503
    response = call(make_client(), keys, SIGN, body)
    assert response.status_code == 412
    assert re.search(r"fhirServer|FHIR server answered 503", refusal(response))


def test_a_record_that_shows_nothing_gives_an_info_card_listing_the_questions(
    make_client: Callable[..., Any], keys: Keys
) -> None:
    """Never 'eligible' from a record: info, incomplete, the questions to ask."""
    quiet = [RECORD[0]]
    (card,) = call(make_client(), keys, SIGN, hook_request(prefetch=prefetch_of(quiet))).json()[
        "cards"
    ]
    assert card["indicator"] == "info"
    assert "unanswered" in card["summary"]
    assert "Are you pregnant" in card["detail"]
    assert "suggestions" not in card


def test_an_order_that_is_not_mesotherapy_gets_no_card_and_no_record_reads(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble
) -> None:
    """Other orders are none of this service's business."""
    other = order({"system": "http://loinc.org", "code": "24627-2"}, "mri-1")
    body = hook_request(draftOrders={"resourceType": "Bundle", "entry": [{"resource": other}]})
    assert call(make_client(), keys, SIGN, body).json() == {"cards": []}
    assert fhir_server.requests == []


def test_order_select_looks_only_at_the_selected_orders(
    make_client: Callable[..., Any], keys: Keys
) -> None:
    """A mesotherapy draft that is not among the selections gives no card."""
    client = make_client()
    body = hook_request(
        "order-select", prefetch=prefetch_of(RECORD), selections=["ServiceRequest/x"]
    )
    assert call(client, keys, SELECT, body).json() == {"cards": []}
    body = hook_request("order-select", prefetch=prefetch_of(RECORD),
                    selections=["ServiceRequest/meso-1"])  # fmt: skip
    assert call(client, keys, SELECT, body).json()["cards"][0]["indicator"] == "critical"


def test_booking_a_mesotherapy_appointment_is_checked(
    make_client: Callable[..., Any], keys: Keys
) -> None:
    """appointment-book: the appointment's service type is the mesotherapy code."""
    appointment = {"resourceType": "Appointment", "id": "apt-1", "status": "proposed",
                   "serviceType": [{"coding": [MESOTHERAPY]}]}  # fmt: skip
    booked = {"resourceType": "Bundle", "entry": [{"resource": appointment}]}
    body = hook_request("appointment-book", prefetch=prefetch_of(RECORD), appointments=booked)
    (card,) = call(make_client(), keys, BOOK, body).json()["cards"]
    assert card["indicator"] == "critical"
    assert "Remove the scalp mesotherapy order" not in {s["label"] for s in card["suggestions"]}


def test_calls_and_feedback_are_audited_without_patient_data(
    make_client: Callable[..., Any], keys: Keys, database_url: str
) -> None:
    """Each call and each accepted or overridden card is an audit entry."""
    client = make_client()
    body = hook_request(prefetch=prefetch_of(RECORD))
    card = call(client, keys, SIGN, body).json()["cards"][0]
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden",
                              "overrideReason": {"reason": card["overrideReasons"][1]},
                              "outcomeTimestamp": "2026-11-25T09:00:00Z"}]}  # fmt: skip
    response = call(client, keys, SIGN + "/feedback", feedback)
    assert response.status_code == 200, response.text
    calls = [e for e in audit_rows(database_url, "cds.hook") if body["hookInstance"] in e["detail"]]
    assert len(calls) == 1
    assert card["uuid"] in calls[0]["detail"]
    recorded = [e for e in audit_rows(database_url, "cds.feedback") if card["uuid"] in e["detail"]]
    assert len(recorded) == 1
    assert "specialist-cleared" in recorded[0]["detail"]
    assert "C50" not in recorded[0]["detail"] + calls[0]["detail"]
    bad = call(client, keys, SIGN + "/feedback", {"feedback": [{"card": "x", "outcome": "?"}]})
    assert bad.status_code == 400
    assert "feedback[0].outcome" in refusal(bad)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "Bearer token"),
        ("not-a-jwt", "not a JWT"),
        ("alg-none", "alg 'none' refused"),
        ("hs256", "alg 'HS256' refused"),
        ("hs256-signed-with-the-public-key", "alg 'HS256' refused"),
        ("wrong-typ", "typ 'at+jwt' refused"),
        ("no-kid", "no kid"),
        ("unknown-issuer", "not a configured CDS client"),
        ("issuer-without-keys", "no jku in the token and no keys configured"),
        ("wrong-key", "Signature verification failed"),
        ("unknown-kid", "no key with kid"),
        ("duplicate-kid", "kid 'other-1' names 2 keys"),
        ("wrong-audience", "Audience doesn't match"),
        ("expired", "expired"),
        ("too-long", "more than five minutes"),
        ("no-iat", 'missing the "iat" claim'),
        ("no-exp", 'missing the "exp" claim'),
        ("no-jti", 'missing the "jti" claim'),
        ("jku-not-allowed", "not on this client's allow-list"),
        ("replayed", "already used"),
    ],
)
def test_every_unacceptable_token_is_refused_with_401_saying_why(
    make_client: Callable[..., Any],
    keys: Keys,
    fhir_server: FhirServerDouble,
    database_url: str,
    case: str,
    message: str,
) -> None:
    """Algorithm, type, key id, issuer, signature, audience, times, jti, jku and replay; each
    refusal is a denied entry in the audit trail."""
    import jwt

    client = make_client()
    body = hook_request(prefetch=prefetch_of(RECORD))
    audience = BASE + SIGN
    fhir_server.jwks = {"keys": [jwk(keys.other, "other-1"), jwk(keys.stranger, "other-1")]}
    tokens: dict[str, Callable[[], str | None]] = {
        "missing": lambda: None,
        "not-a-jwt": lambda: "abc.def",
        "alg-none": lambda: keys.forged(audience, {"alg": "none", "typ": "JWT",
                                                   "kid": "ehr-1"}, None),
        "hs256": lambda: jwt.encode({"iss": ISSUER}, "secret-key-of-32-bytes-or-more!!", "HS256"),
        "hs256-signed-with-the-public-key": lambda: keys.forged(
            audience, {"alg": "HS256", "typ": "JWT", "kid": "ehr-1"}, keys.ehr_public_pem()
        ),
        "wrong-typ": lambda: keys.token(audience, headers={"typ": "at+jwt"}),
        "no-kid": lambda: keys.token(audience, kid=None),
        "unknown-issuer": lambda: keys.token(audience, issuer="https://rogue.example"),
        "issuer-without-keys": lambda: keys.token(audience, issuer=JKU_ISSUER),
        "wrong-key": lambda: keys.token(audience, key=keys.stranger),
        "unknown-kid": lambda: keys.token(audience, kid="ehr-9"),
        "duplicate-kid": lambda: keys.token(audience, issuer=JKU_ISSUER, key=keys.other,
                                            kid="other-1", headers={"jku": JKU_URL}),
        "wrong-audience": lambda: keys.token(BASE + BOOK),
        "expired": lambda: keys.token(audience, lifetime=timedelta(minutes=-5)),
        "too-long": lambda: keys.token(audience, lifetime=timedelta(hours=1)),
        "no-iat": lambda: keys.token(audience, drop=("iat",)),
        "no-exp": lambda: keys.token(audience, drop=("exp",)),
        "no-jti": lambda: keys.token(audience, drop=("jti",)),
        "jku-not-allowed": lambda: keys.token(
            audience, headers={"jku": "https://evil.example/jwks.json"}
        ),
        "replayed": lambda: keys.token(audience, jti="once-only"),
    }  # fmt: skip
    token = tokens[case]()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if case == "replayed":
        assert client.post(SIGN, json=body, headers=headers).status_code == 200
    response = client.post(SIGN, json=body, headers=headers)
    assert response.status_code == 401
    assert message in refusal(response)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if case != "duplicate-kid":
        assert fhir_server.requests == []  # no key fetched, nothing read (jku: no SSRF)
    logged = "replayed token" if case == "replayed" else message
    denied = [e for e in audit_rows(database_url, "cds.hook") if e["outcome"] == "denied"]
    assert any(logged in " ".join(json.loads(e["detail"]).values()) for e in denied)


def test_keys_from_an_allow_listed_jku_are_fetched_and_accepted(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble
) -> None:
    """The second client publishes its keys at its jku URL."""
    token = keys.token(BASE + SIGN, issuer=JKU_ISSUER, key=keys.other, kid="other-1",
                       headers={"jku": JKU_URL})  # fmt: skip
    response = make_client().post(
        SIGN,
        json=hook_request(prefetch=prefetch_of(RECORD)),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    assert [str(r.url) for r in fhir_server.requests] == [JKU_URL]


def test_development_mode_is_off_by_default_and_marked_in_the_audit_when_on(
    make_client: Callable[..., Any], database_url: str
) -> None:
    """Without a token: 401 by default; accepted in development mode, and audited as such."""
    body = hook_request(prefetch=prefetch_of(RECORD))
    assert make_client().post(SIGN, json=body).status_code == 401
    assert make_client(cds_development_mode=True).post(SIGN, json=body).status_code == 200
    entries = audit_rows(database_url, "cds.hook")
    (entry,) = [e for e in entries if body["hookInstance"] in e["detail"]]
    assert '"development_mode": "true"' in entry["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hook": "order-sign"}, "'hookInstance'"),
        ({"hook": "appointment-book", "hookInstance": "x", "context": {}}, "'hook'"),
        ({"hook": "order-sign", "hookInstance": "x", "context": {}}, "'context.patientId'"),
        ({"hook": "order-sign", "hookInstance": "x",
          "context": {"patientId": "1", "draftOrders": []}}, "'context.draftOrders'"),
    ],
)  # fmt: skip
def test_a_malformed_hook_request_is_400_naming_the_field(
    make_client: Callable[..., Any], keys: Keys, body: dict[str, Any], field: str
) -> None:
    """Clear problem details, never a traceback."""
    response = call(make_client(), keys, SIGN, body)
    assert response.status_code == 400
    assert field in refusal(response)


def test_a_deceased_patient_gets_no_treatment_cards(
    make_client: Callable[..., Any], keys: Keys
) -> None:
    """Patient.deceasedDateTime on a record that contraindicates: no cards at all."""
    record = copy.deepcopy(RECORD)
    record[0]["deceasedDateTime"] = "2025-02-01"
    response = call(make_client(), keys, SIGN, hook_request(prefetch=prefetch_of(record)))
    assert response.status_code == 200, response.text
    assert response.json() == {"cards": []}
