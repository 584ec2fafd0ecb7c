"""Run a coroutine on an event loop of its own, whatever the calling thread is running.

Playwright's sync API leaves an event loop running in the main thread of a pytest session, so
``asyncio.run`` there fails once a browser test has run. Tests that drive an ASGI app or a
service asynchronously use ``on_a_loop_of_its_own`` instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def on_a_loop_of_its_own(calls: Callable[[], Coroutine[None, None, T]], timeout: float = 60) -> T:
    """Run ``calls()`` on a new event loop in a thread of its own and return its result."""
    with ThreadPoolExecutor(1, thread_name_prefix="test-loop") as pool:
        return pool.submit(lambda: asyncio.run(calls())).result(timeout=timeout)
