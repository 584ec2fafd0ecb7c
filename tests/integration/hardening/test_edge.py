"""The edge of the service: security headers on every response, bad bodies refused early, and
an error no handler caught answered without its message.

Every route of the app is enumerated (so a new route is covered without editing this file)
and called with real record ids, signed in, for pages and for the API alike.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from mesoscreen.entrypoints.api.json_depth import MAX_JSON_DEPTH, json_nesting_exceeds
from tests.factories import TwoClinics
from tests.integration.api.conftest import bearer
from tests.integration.api.records import full_record
from tests.integration.web.conftest import sign_in

REQUIRED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": None,  # any policy; pages use same-origin, the API no-referrer
    "cache-control": "no-store",
}


def _routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route, included routers followed."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                for method in sorted(route.methods):
                    yield method, prefix + route.path

    return walk(app.routes, "")


def _assert_secure_headers(response: Any, label: str) -> None:
    """The headers every response must carry, whatever its status."""
    for name, value in REQUIRED.items():
        assert name in response.headers, f"{label}: no {name}"
        if value is not None:
            assert value in response.headers[name], f"{label}: {name}={response.headers[name]}"
    policy = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, f"{label}: CSP {policy!r}"
    assert response.headers.get("x-correlation-id"), label


@pytest.fixture
def app(services: Services) -> FastAPI:
    """The app, with one route that fails the way an unforeseen bug would."""
    app = create_app(services.settings, services=services)

    @app.get("/api/v1/test-only/fault")
    def fault(name: str = "Zyxwquorra") -> None:
        raise LookupError(f"no patient named {name}")  # patient data in an error message

    return app


def test_every_route_answers_with_security_headers_and_no_store(
    app: FastAPI, clinics: TwoClinics
) -> None:
    """Each route, as a signed-in clinician with real ids (pages and API), and error answers
    (404, 405, 413, 415, 400, 500): nosniff, a Referrer-Policy, CSP with frame-ancestors and
    Cache-Control no-store, since any of them may carry patient data."""
    with TestClient(app, base_url="https://testserver") as client:
        headers = bearer(client, clinics.a.users[Role.CLINICIAN])
        record = full_record(client, headers, clinics.a.clinic.id)
        sign_in(client, clinics.a, Role.CLINICIAN)
        ids = {
            "patient_id": record.patient, "screening_id": record.screening, "plan_id": record.plan,
            "session_id": record.session, "event_id": record.event,
            "completion_id": record.completion, "user_id": clinics.a.users[Role.CLINICIAN].id,
            "service_id": "mesotherapy-order-sign",
        }  # fmt: skip
        routes = list(_routes(app))
        assert len(routes) > 60
        statuses: dict[int, int] = {}
        pages_shown = 0
        for method, template in routes:
            path = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "unknown-id"), template)
            if method == "POST" and not template.startswith(("/api/", "/cds-services")):
                response = client.post(path, data={"csrf": "not-the-token"})  # refused, safely
            else:
                response = client.request(method, path, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            pages_shown += response.headers.get("content-type", "").startswith("text/html")
            _assert_secure_headers(response, f"{method} {template} -> {response.status_code}")
        assert statuses.get(200, 0) > 30, statuses  # most reads really returned records
        assert pages_shown > 10, statuses  # pages were shown signed in, not only the sign-in

        json_headers = headers | {"Content-Type": "application/json"}
        for label, response in {
            "404": client.get("/api/v1/no-such-thing", headers=headers),
            "405": client.delete("/health"),
            "413": client.post("/api/v1/patients", content=b"[" + b" " * 2_000_000 + b"]",
                               headers=json_headers),
            "415": client.post("/api/v1/patients", content=b"a=b",
                               headers=headers | {"Content-Type": "text/plain"}),
            "400": client.post("/api/v1/patients", content=b"[" * 65 + b"]" * 65,
                               headers=json_headers),
            "500": client.get("/api/v1/test-only/fault", headers=headers),
            "static": client.get("/static/app.css"),
        }.items():  # fmt: skip
            expected = 200 if label == "static" else int(label)
            assert response.status_code == expected, (label, response.text)
            _assert_secure_headers(response, label)


def test_an_error_no_handler_caught_is_a_500_problem_that_never_repeats_its_message(
    app: FastAPI, clinics: TwoClinics, caplog: pytest.LogCaptureFixture
) -> None:
    """The client gets a problem with a correlation id; the log gets the type and the frames,
    never the exception's message (here, a patient's name)."""
    caplog.set_level(logging.DEBUG)
    with TestClient(app) as client:
        response = client.get(
            "/api/v1/test-only/fault", headers=bearer(client, clinics.a.users[Role.CLINICIAN])
        )
    assert response.status_code == 500
    problem = response.json()
    assert problem["code"] == "internal_error"
    assert problem["correlation_id"] == response.headers["x-correlation-id"]
    assert "Zyxwquorra" not in response.text
    assert "Traceback" not in response.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"internal error {problem['correlation_id']}: LookupError" in logged
    assert "in fault" in logged  # where it happened, for whoever fixes it
    assert "Zyxwquorra" not in logged


@pytest.mark.parametrize("path", ["/api/v1/patients", "/cds-services/mesotherapy-order-sign"])
def test_json_nested_past_the_limit_is_refused_before_any_route_reads_it(
    client: TestClient, path: str
) -> None:
    """No token needed to be refused: the edge answers 400 json_too_deep naming the limit."""
    deep = b"[" * 100_000 + b"]" * 100_000
    response = client.post(path, content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    if path.startswith("/cds-services"):  # an OperationOutcome there
        (issue,) = body["issue"]
        body = {"code": issue["details"]["coding"][0]["code"], "detail": issue["details"]["text"]}
    assert body["code"] == "json_too_deep"
    assert f"at most {MAX_JSON_DEPTH} levels" in body["detail"]


def test_json_at_the_limit_reaches_the_route(client: TestClient, clinics: TwoClinics) -> None:
    """Nesting exactly at the limit passes the edge; the route then judges the content."""
    headers = bearer(client, clinics.a.users[Role.NURSE]) | {"Content-Type": "application/json"}
    at_limit = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    response = client.post("/api/v1/patients", content=at_limit, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


def _depth(value: Any) -> int:
    """Nesting depth of arrays and objects in a JSON value."""
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


_BRACKETY_TEXT = st.text(alphabet='[]{}"\\ab', max_size=6)
_JSON = st.recursive(
    st.none() | st.integers() | _BRACKETY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_BRACKETY_TEXT, inner, max_size=3),
    max_leaves=40,
)


@given(_JSON, st.integers(min_value=0, max_value=8))
@example("[", 0)  # found by hypothesis in CI: brackets only inside a string, a limit of 0
@example([], 0)
def test_the_nesting_check_agrees_with_the_parsed_depth(value: Any, limit: int) -> None:
    """For any JSON (brackets and escaped quotes inside strings included) the byte-level
    check says "too deep" exactly when the parsed value nests deeper than the limit."""
    body = json.dumps(value).encode()
    assert json_nesting_exceeds(body, limit) is (_depth(value) > limit)


def test_an_oversized_form_is_413_declared_or_streamed(client: TestClient) -> None:
    """A form past the cap is refused from its Content-Length, or counted as it streams in
    when it has none: the same 413 problem either way."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    body = b"username=" + b"a" * 2_000_000

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    for response in (
        client.post("/signin", content=body, headers=headers),
        client.post("/signin", content=chunks(), headers=headers),
    ):
        assert response.status_code == 413
        assert response.json()["code"] == "body_too_large"
