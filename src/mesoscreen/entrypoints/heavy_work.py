"""CPU-heavy work of the HTTP entry points, run in worker threads with a bound on how many.

Decoding and sanitising photos, Argon2 hashing and verification, rendering pages and the
JSON nesting check of large bodies would each hold the event loop (and so every other
request, ``/health`` included) for as long as they run. An async route hands such work to
``HeavyWork.run``: it runs in a worker thread, at most ``threads`` at once across the process
(``MESOSCREEN_HEAVY_WORK_THREADS``); callers past the bound wait their turn without holding
the loop. Synchronous routes and pages already run in a worker thread of Starlette's pool;
they call ``HeavyWork.call``, which waits for the same bound from there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.lowlevel import RunVar

P = ParamSpec("P")
R = TypeVar("R")


class HeavyWork:
    """Runs blocking calls in worker threads, at most ``threads`` of them at once."""

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError(f"'threads': must be at least 1 (got {threads})")
        self.threads = threads
        # One limiter per event loop: a limiter waits on its loop's events (the server runs one
        # loop; tests start one per client).
        self._limiter: RunVar[anyio.CapacityLimiter] = RunVar(f"heavy_work_{id(self)}")

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        """The bound of the running event loop, made on first use."""
        try:
            return self._limiter.get()
        except LookupError:
            limiter = anyio.CapacityLimiter(self.threads)
            self._limiter.set(limiter)
            return limiter

    async def run(self, func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``func(*args, **kwargs)`` in a worker thread once one of the ``threads`` is free."""
        return await anyio.to_thread.run_sync(partial(func, *args, **kwargs), limiter=self.limiter)

    def call(self, func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``func(*args, **kwargs)`` under the same bound, called from a worker thread of the
        event loop (a synchronous route or page); that thread waits for the result."""
        return anyio.from_thread.run(partial(self.run, func, *args, **kwargs))
