"""Schemathesis against the service's own OpenAPI document: no 500s, no schema violations.

Requests are generated from the document for every operation (a few dozen examples each, to
keep the suite quick) and sent as a signed-in clinician, on SQLite and on PostgreSQL (which
refuses a NUL in text: schemathesis generates NUL characters, ``allow_x00``); responses must
never be server errors, and those the document describes must match its schemas.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)

from mesoscreen.bootstrap import build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from tests.conftest import DIALECTS, migrated_database
from tests.factories import PASSWORD, records_settings, seed_clinic

pytestmark = pytest.mark.slow
OPERATIONS_EXAMPLES = 600  # across every operation; raise it locally for a deeper search
NEGATIVE_EXAMPLES = 400


@pytest.fixture(scope="module", params=DIALECTS)
def api(request: pytest.FixtureRequest) -> Iterator[tuple[Any, dict[str, str]]]:
    """The service's schema over its ASGI app, and a signed-in clinician's headers."""
    with (
        tempfile.TemporaryDirectory() as folder,
        migrated_database(request.param, Path(folder)) as url,
    ):
        services = build_services(records_settings(url))
        staff = seed_clinic(services.accounts)
        app = create_app(services.settings, services=services)
        signed_in = services.authentication.login(
            staff.users[Role.CLINICIAN].username, PASSWORD, "bearer", None
        )
        yield (
            schemathesis.openapi.from_asgi("/openapi.json", app),
            {"Authorization": f"Bearer {signed_in.token}"},
        )
        services.close()


def test_no_server_error_and_documented_responses_match(api: tuple[Any, dict[str, str]]) -> None:
    """Generated requests to every operation: never a 5xx, and documented bodies conform."""
    schema, headers = api
    seen: set[str] = set()

    @settings(max_examples=OPERATIONS_EXAMPLES, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(schema.as_strategy())
    def check(case: Any) -> None:
        seen.add(f"{case.method} {case.path}")
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )

    check()
    assert len(seen) >= 20, sorted(seen)


def _problem_shaped(response: Any, case: Any) -> None:
    """A refusal is problem details (an OperationOutcome under /fhir), never a traceback."""
    if response.status_code < 400:
        return
    media = response.headers.get("content-type", [""])
    media = media[0] if isinstance(media, list) else media
    if case.path.startswith("/fhir"):
        assert media.startswith("application/fhir+json"), (case.path, media)
        assert response.json()["resourceType"] == "OperationOutcome"
    else:
        assert media.startswith("application/problem+json"), (case.path, media)
        assert {"type", "title", "status", "code"} <= set(response.json())
    assert "Traceback" not in response.text
    assert "SELECT " not in response.text


def test_invalid_requests_are_refused_with_problems_never_a_server_error(
    api: tuple[Any, dict[str, str]],
) -> None:
    """Requests that break the document (wrong types, missing fields, bad parameters): a 4xx
    problem for each, never a 5xx, never accepted as if valid."""
    schema, headers = api
    refused: list[int] = []

    @settings(max_examples=NEGATIVE_EXAMPLES, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(schema.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        checks = [not_a_server_error, negative_data_rejection]
        if response.status_code == 413:
            # A generated body over the service's limit (1 MiB, a string past its maxLength
            # many times over) is refused before it is read: a refusal, which schemathesis's
            # negative check does not list among the statuses it expects.
            assert response.json()["code"] == "body_too_large", response.text
            checks = [not_a_server_error]
        case.validate_response(response, checks=checks)
        _problem_shaped(response, case)
        refused.append(response.status_code)

    check()
    assert sum(400 <= status < 500 for status in refused) > NEGATIVE_EXAMPLES // 2, refused
