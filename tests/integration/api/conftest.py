"""Fixtures for the HTTP tests: services on the shared database, a client, two staffed clinics."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from mesoscreen.bootstrap import Services
from mesoscreen.domain.records import User
from mesoscreen.entrypoints.api import create_app
from tests.factories import PASSWORD, TwoClinics, seed_two_clinics

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package; until the lock file carries it, httpx serves.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    """An HTTP client for the app (plain HTTP, as behind a TLS proxy in tests)."""
    with TestClient(create_app(services.settings, services=services)) as test_client:
        yield test_client


@pytest.fixture
def clinics(services: Services) -> TwoClinics:
    """Clinics A and B with a user of every role each."""
    return seed_two_clinics(services.accounts)


def bearer(client: TestClient, user: User) -> dict[str, str]:
    """Authorization headers for ``user`` after a token sign-in."""
    response = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
