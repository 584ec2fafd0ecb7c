"""Schemathesis against the service's own OpenAPI document: no 500s, no schema violations.

Requests are generated from the document for every operation (a few dozen examples each, to
keep the suite quick) and sent as a signed-in clinician; responses must never be server
errors, and those the document describes must match its schemas.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from mesoscreen.bootstrap import build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from tests.conftest import migrated_database
from tests.factories import PASSWORD, records_settings, seed_clinic

pytestmark = pytest.mark.slow
OPERATIONS_EXAMPLES = 600  # across every operation; raise it locally for a deeper search


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[Any, dict[str, str]]]:
    """The service's schema over its ASGI app, and a signed-in clinician's headers."""
    with tempfile.TemporaryDirectory() as folder, migrated_database("sqlite", Path(folder)) as url:
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
