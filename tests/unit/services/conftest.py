"""Fixtures the use-case tests share: an empty in-memory store, a frozen clock, a staffed clinic."""

from __future__ import annotations

import pytest

from mesoscreen.services.accounts import Accounts
from tests.factories import ClinicStaff, seed_clinic
from tests.fakes import FakeHasher, FakeUnitOfWorkFactory, FrozenClock


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    """An empty in-memory store."""
    return FakeUnitOfWorkFactory()


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock: 25 Nov 2026, 09:00 UTC."""
    return FrozenClock()


@pytest.fixture
def staff(uow: FakeUnitOfWorkFactory, clock: FrozenClock) -> ClinicStaff:
    """A clinic with a user of each role."""
    return seed_clinic(Accounts(uow, clock, FakeHasher()))
