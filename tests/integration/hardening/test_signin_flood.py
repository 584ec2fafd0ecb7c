"""A sign-in flood from one address across many usernames waits out a window: 429 with
Retry-After, counted in the database so every server process sees the same count.

The per-username throttle (slowed after 3 failures, locked after 10) is tested with the
sessions; this covers guessing one password against many usernames.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from tests.factories import PASSWORD, ClinicStaff, records_settings, seed_clinic, unique
from tests.fakes import FrozenClock
from tests.integration.web.conftest import csrf_in

LIMIT = 10
_addresses = (f"203.0.113.{n}" for n in itertools.count(1))


@pytest.fixture
def two_servers(database_url: str, clock: FrozenClock) -> Iterator[tuple[Services, Services]]:
    """Two independent service stacks (as two server processes) on one database."""
    settings = records_settings(database_url, login_source_failures_per_minute=LIMIT)
    first, second = build_services(settings, clock), build_services(settings, clock)
    yield first, second
    first.close()
    second.close()


def _client(services: Services, address: str) -> TestClient:
    """A client of the app on ``services`` calling from ``address``."""
    return TestClient(
        create_app(services.settings, services=services),
        base_url="https://testserver",
        client=(address, 50000),
    )


def _wrong(client: TestClient) -> int:
    """One failed sign-in with a username never used before; the status."""
    body = {"username": unique("guess"), "password": "Summer2026!"}
    return client.post("/api/v1/auth/token", json=body).status_code


def _right(client: TestClient, staff: ClinicStaff) -> httpx.Response:
    """A sign-in with the right password of a real user."""
    body = {"username": staff.users[Role.NURSE].username, "password": PASSWORD}
    return client.post("/api/v1/auth/token", json=body)


def test_an_address_failing_across_many_usernames_gets_429_until_the_window_ends(
    two_servers: tuple[Services, Services], clock: FrozenClock
) -> None:
    """Ten failures (ten usernames): the eleventh try, even the right password, is a 429 with
    Retry-After; another address is unaffected; a minute later the address may try again."""
    services, _ = two_servers
    staff = seed_clinic(services.accounts)
    address, other = next(_addresses), next(_addresses)
    with _client(services, address) as flood, _client(services, other) as neighbour:
        assert [_wrong(flood) for _ in range(LIMIT)] == [401] * LIMIT
        clock.advance(timedelta(seconds=20))
        refused = _right(flood, staff)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "40"
        assert "from this address" in refused.json()["detail"]
        assert _right(neighbour, staff).status_code == 200
        clock.advance(timedelta(seconds=41))
        assert _right(flood, staff).status_code == 200


def test_two_server_processes_count_one_addresses_failures_together(
    two_servers: tuple[Services, Services],
) -> None:
    """Failures spread over two servers sharing the database add up: no per-process budget."""
    first, second = two_servers
    address = next(_addresses)
    with _client(first, address) as one, _client(second, address) as two:
        statuses = [_wrong(one if n % 2 else two) for n in range(LIMIT)]
        assert statuses == [401] * LIMIT
        assert _wrong(one) == 429
        assert _wrong(two) == 429


def test_the_sign_in_page_answers_a_flood_with_429(two_servers: tuple[Services, Services]) -> None:
    """The web form shares the count: its page says so with 429 and Retry-After."""
    services, _ = two_servers
    with _client(services, next(_addresses)) as browser:
        for n in range(LIMIT + 1):
            form = csrf_in(browser.get("/signin").text)
            page = browser.post("/signin", data={"username": unique("guess"),
                                                 "password": "x" * 12, "csrf": form})  # fmt: skip
            assert page.status_code == (401 if n < LIMIT else 429), n
        assert page.headers["Retry-After"] == "60"
