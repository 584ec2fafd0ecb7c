"""Fixtures shared by the integration tests: a frozen clock, the services on the test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mesoscreen.bootstrap import Services, build_services
from tests.factories import records_settings
from tests.fakes import FrozenClock


@pytest.fixture
def clock() -> FrozenClock:
    """The frozen clock every service of a test reads (25 Nov 2026, 09:00 UTC)."""
    return FrozenClock()


@pytest.fixture
def services(database_url: str, clock: FrozenClock) -> Iterator[Services]:
    """The use cases on the shared test database."""
    built = build_services(records_settings(database_url), clock)
    yield built
    built.close()
