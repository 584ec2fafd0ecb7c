"""Bodies built to make the checks before sign-in slow are refused at once, off the event loop.

An unclosed run of escaped quotes once took 47 s for 128 KiB on the sign-in route and held
``/health`` meanwhile. Each shape here is sent at the body limit, unauthenticated.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services
from mesoscreen.entrypoints.api import create_app, middleware
from tests.event_loops import on_a_loop_of_its_own

LIMIT = 1_048_576  # the default max_body_bytes the fixtures' settings keep


def _fill(head: bytes, unit: bytes, tail: bytes = b"") -> bytes:
    """``head``, then ``unit`` repeated, then ``tail``: exactly LIMIT bytes (padded with spaces)."""
    body = head + unit * ((LIMIT - len(head) - len(tail)) // len(unit)) + tail
    return body + b" " * (LIMIT - len(body))


SHAPES: dict[str, bytes] = {
    "unclosed escaped quotes": _fill(b"[" * 63 + b'"', b'\\"'),
    "unclosed escaped quotes past the limit": _fill(b"[" * 65 + b'"', b'\\"'),
    "escaped backslashes then a quote": _fill(b"[" * 63 + b'"', b"\\\\", b'"'),
    "deep brackets": _fill(b"", b"["),
    "deep objects": _fill(b"", b'{"a":'),
    "empty arrays side by side": _fill(b"[" * 63, b"[]"),
    "one long string": _fill(b'{"username": "', b"a", b'", "password": "x"}'),
    "brackets inside a string": _fill(b'{"username": "', b"[{", b'"}'),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/patients", "/cds-services/x"])
def test_a_hostile_body_at_the_limit_is_refused_with_a_4xx(
    client: TestClient, shape: str, path: str
) -> None:
    """Too deep is 400 from the edge; anything else is the route's 4xx (401, 404 or 422)."""
    body = SHAPES[shape]
    assert len(body) == LIMIT
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, (shape, response.status_code)


def test_health_answers_while_a_large_body_is_being_checked(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check of a large body runs in a worker thread: held there until ``/health`` has
    answered, it is released by that answer, not by the timeout (which would mean it ran on
    the event loop and ``/health`` waited behind it)."""
    checking, health_answered = threading.Event(), threading.Event()
    released_by_health: list[bool] = []
    check_threads: list[int] = []
    real_check: Callable[..., bool] = middleware.json_nesting_exceeds

    def held_check(body: bytes, *args: int) -> bool:
        check_threads.append(threading.get_ident())
        checking.set()
        released_by_health.append(health_answered.wait(timeout=10))
        return real_check(body, *args)

    monkeypatch.setattr(middleware, "json_nesting_exceeds", held_check)
    app = create_app(services.settings, services=services)

    async def scenario() -> tuple[int, int]:
        loop_thread = threading.get_ident()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            posting = asyncio.create_task(
                http.post(
                    "/api/v1/auth/login",
                    content=SHAPES["unclosed escaped quotes"],
                    headers={"Content-Type": "application/json"},
                )
            )
            for _ in range(1000):  # until the check has started (or the post has ended)
                if checking.is_set() or posting.done():
                    break
                await asyncio.sleep(0.01)
            health = await asyncio.wait_for(http.get("/health"), timeout=20)
            health_answered.set()
            posted = await asyncio.wait_for(posting, timeout=30)
        assert check_threads, "the nesting check never ran"
        assert loop_thread not in check_threads
        return health.status_code, posted.status_code

    health_status, post_status = on_a_loop_of_its_own(scenario)
    assert health_status == 200
    assert released_by_health == [True]
    assert 400 <= post_status < 500
