"""CPU of finding a request's route: requests the app answers before any endpoint work, with
the app's prefix routers and, in the same run, with FastAPI's own matching in their place.

Run: .venv/bin/python -m benchmarks.bench_routing [--requests 2000] [--rounds 5]

Builds the clinic app on fresh services (as ``bench_pages``), then calls it in this process
through ASGI (no HTTP server, no client library; a route's sync function runs inline, as under
``bench_pages --profile``) with requests that end early: GET /health (the bare endpoint), a
path no route has (404), the screening API and the screening page without credentials (401
and the way to sign in), and a CDS call without a token (401). Each request's answer is
checked first. Rounds alternate between the two ways of matching; printed: this process's
CPU per request in each round, the lowest and the median, and the routes the app holds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import anyio.to_thread
from fastapi import APIRouter

from benchmarks.bench_pages import _inline, fresh_services
from mesoscreen.entrypoints.api import create_app
from mesoscreen.entrypoints.prefix_router import PrefixRouter

REQUESTS = (
    ("GET", "/health", 200),
    ("GET", "/nothing/here", 404),
    ("POST", "/api/v1/patients/p-1/screenings", 401),
    ("GET", "/screenings/s-1", 303),
    ("POST", "/cds-services/mesotherapy-order-sign", 401),
)


def _scope(method: str, path: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"127.0.0.1"), (b"content-length", b"0")],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip


async def _call(app: Any, method: str, path: str) -> int:
    """The status the app answers ``method path`` with (no body)."""
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(method, path), receive, send)
    return status


def main() -> None:
    """Time the early answers with both ways of matching; print CPU per request."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    prefix_matches = PrefixRouter.matches
    ways = {"FastAPI's matching": APIRouter.matches, "prefix routers": prefix_matches}
    with fresh_services() as services:
        app = create_app(services.settings, services=services)
        routers = [route for route in app.routes if hasattr(route, "original_router")]
        held = sum(len(route.original_router.routes) for route in routers)
        print(f"the app: {len(routers)} routers holding {held} routes, "
              f"{len(app.routes) - len(routers)} routes of its own")  # fmt: skip
        loop = asyncio.new_event_loop()
        try:
            for method, path, expected in REQUESTS:
                figures: dict[str, list[float]] = {way: [] for way in ways}
                for _ in range(args.rounds):
                    for way, matches in ways.items():
                        PrefixRouter.matches = matches  # type: ignore[method-assign]
                        got = loop.run_until_complete(_call(app, method, path))
                        if got != expected:
                            raise SystemExit(f"{method} {path}: {got}, expected {expected}")
                        start = time.process_time()
                        for _ in range(args.requests):
                            loop.run_until_complete(_call(app, method, path))
                        figures[way].append(1e6 * (time.process_time() - start) / args.requests)
                PrefixRouter.matches = prefix_matches  # type: ignore[method-assign]
                print(f"{method} {path} ({expected})")
                for way, per in figures.items():
                    print(f"    {way:20} " + ", ".join(f"{us:.0f}" for us in per)
                          + f" us CPU a request; lowest {min(per):.0f}, "
                          f"median {statistics.median(per):.0f}")  # fmt: skip
        finally:
            PrefixRouter.matches = prefix_matches  # type: ignore[method-assign]
            loop.close()


if __name__ == "__main__":
    main()
