"""The pool of bulk workers: what the workers inherit and what the parent keeps."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import date

import pytest

from mesoscreen.adapters import bulk_runner
from mesoscreen.adapters.bulk_runner import BulkSettings
from mesoscreen.bootstrap import record_screener

ON = date(2026, 11, 25)


def _freeze_count() -> int:
    return gc.get_freeze_count()


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """This process's objects not frozen before and after the test."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_workers_start_with_the_parents_objects_frozen_and_the_parent_is_unfrozen() -> None:
    """The workers' collections never walk what they inherited (each worker sees the
    inherited objects frozen); the parent's collections walk its own objects as before."""
    with bulk_runner._start_pool(2, BulkSettings(ON, screener=record_screener)) as pool:
        assert _freeze_count() == 0
        counts = [pool.apply(_freeze_count) for _ in range(4)]
    assert all(count > 10_000 for count in counts), counts


@pytest.mark.usefixtures("unfrozen")
def test_a_freeze_the_parent_made_itself_is_left_in_place() -> None:
    """A process that froze its objects on purpose (a server that forks, say) keeps them
    frozen after starting a pool."""
    gc.freeze()
    before = _freeze_count()
    with bulk_runner._start_pool(1, BulkSettings(ON, screener=record_screener)):
        pass
    assert _freeze_count() >= before > 0
