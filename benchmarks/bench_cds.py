"""The CDS Hooks order-sign call: server CPU per call against its floors, and latency under a
constant offered rate.

Run: .venv/bin/python -m benchmarks.bench_cds [--calls 3000] [--concurrency 8] [--profile N]
     .venv/bin/python -m benchmarks.bench_cds --load [--rate 300] [--seconds 20] [--workers 2]

In process (the default): the service is built as `mesoscreen serve` builds it (production
settings: a signed ES384 client token per call, each with its own jti; PostgreSQL when
MESOSCREEN_BENCH_POSTGRES_URL or the local test server answers, else SQLite) and its ASGI app
is called directly on a uvloop event loop, ``--concurrency`` calls at a time. Every check is
kept: signature, claims, jti recorded once, audit entry committed before the answer. Printed
per call, in CPU time of this process (``time.process_time``, every thread: the machine is
shared, so wall time is noise): the order-sign call, and the floors measured in the same run,
the bare endpoint (GET /health through the same stack) and a bare signed-token check (PyJWT
verifying one ES384 token with a key already loaded). ``--profile N`` profiles N more calls
with cProfile and prints where the time went.

``--load``: starts `mesoscreen serve --workers N` on loopback and offers order-sign calls at a
constant ``--rate`` from an open-loop asyncio client: call i is due at start + i/rate whether
or not earlier calls have been answered, and its latency is counted from when it was due
(a closed loop would hide the queueing). Prints p50/p99/max latency, errors, and the server's
CPU per call from /proc (its processes' utime + stime over the run), then the same for GET
/health offered on the same schedule (the bare endpoint's floor under that load).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import psycopg
import uvloop
from cryptography.hazmat.primitives.asymmetric import ec
from tests.integration.cds_hooks.conftest import ISSUER

from benchmarks.bench_load import _server_cpu_seconds, order_sign_request
from mesoscreen.bootstrap import build_services, prepare_database
from mesoscreen.config import Settings
from mesoscreen.entrypoints.api import create_app

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CDS_PATH = "/cds-services/mesotherapy-order-sign"
HOOK = order_sign_request()
BODY = orjson.dumps(HOOK)


def _database() -> tuple[str, Callable[[], None]]:
    """A database URL for the run, and how to drop it afterwards."""
    url = os.environ.get("MESOSCREEN_BENCH_POSTGRES_URL", PG_DEFAULT)
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(plain, connect_timeout=3, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
    except psycopg.Error:
        folder = Path(tempfile.mkdtemp(prefix="mesoscreen-cds-"))
        return f"sqlite:///{folder / 'bench.sqlite3'}", lambda: None

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")

    return f"{url}?options=-csearch_path%3D{schema}", drop


class Client:
    """The record system: an ES384 key, its JWK Set, and a fresh signed token per call."""

    def __init__(self, audience: str) -> None:
        self.key = ec.generate_private_key(ec.SECP384R1())
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**public, "kid": "k1"}]}
        self.audience = audience

    def tokens(self, count: int) -> list[str]:
        now = datetime.now(UTC)
        claims = {"iss": ISSUER, "aud": self.audience, "iat": int(now.timestamp()),
                  "exp": int((now + timedelta(minutes=4)).timestamp())}  # fmt: skip
        header = {"kid": "k1"}
        return [
            jwt.encode({**claims, "jti": str(uuid.uuid4())}, self.key, "ES384", headers=header)
            for _ in range(count)
        ]


async def _asgi(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]],
                body: bytes = b"") -> int:  # fmt: skip
    """One request straight into the ASGI app (no sockets); its status."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1:8000"),
                    (b"content-length", str(len(body)).encode()), *headers],
    }  # fmt: skip
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _drive(calls: list[Callable[[], Coroutine[Any, Any, int]]], concurrency: int) -> None:
    """Run ``calls`` ``concurrency`` at a time; every one must answer 200."""
    queue = iter(calls)

    async def worker() -> None:
        for call in queue:
            status = await call()
            if status != 200:
                raise RuntimeError(f"HTTP {status}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def _thread_cpu() -> dict[str, float]:
    """CPU seconds so far of this process's threads, by thread name (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            text = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        fields = text[text.rindex(")") + 2 :].split()
        name = "event loop" if task.name == str(os.getpid()) else name
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return used


def _cpu_per_call(
    loop: asyncio.AbstractEventLoop,
    calls: list[Callable[[], Coroutine[Any, Any, int]]],
    concurrency: int,
    by_thread: dict[str, float] | None = None,
) -> float:
    """Milliseconds of this process's CPU per call (all threads); ``by_thread`` gets the
    milliseconds per call of each thread (coarser: clock ticks)."""
    before = _thread_cpu()
    start = time.process_time()
    loop.run_until_complete(_drive(calls, concurrency))
    used = 1000 * (time.process_time() - start) / len(calls)
    if by_thread is not None:
        for name, seconds in _thread_cpu().items():
            by_thread[name] = 1000 * (seconds - before.get(name, 0.0)) / len(calls)
    return used


def _token_check(client: Client, tokens: list[str]) -> float:
    """CPU ms of PyJWT checking one of ``tokens`` (ES384, key loaded, audience checked)."""
    public = jwt.PyJWK.from_dict(client.jwks["keys"][0]).key
    start = time.process_time()
    for token in tokens:
        jwt.decode(token, public, algorithms=["ES384"], audience=client.audience)
    return 1000 * (time.process_time() - start) / len(tokens)


def in_process(calls: int, concurrency: int, profile: int, only_calls: bool = False) -> None:
    """CPU per order-sign call against the bare endpoint and the bare token check."""
    url, drop = _database()
    base = "http://127.0.0.1:8000"
    client = Client(base + CDS_PATH)
    settings = Settings(database_url=url, cds_link_base=base,
                        cds_clients={ISSUER: {"jwks": client.jwks}})  # fmt: skip
    prepare_database(settings)
    services = build_services(settings)
    app = create_app(settings, services=services)
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    json_header = (b"content-type", b"application/json")
    try:
        warm, measured, profiled = (
            client.tokens(200), client.tokens(calls), client.tokens(profile)
        )  # fmt: skip

        def cds(token: str) -> Callable[[], Coroutine[Any, Any, int]]:
            headers = [json_header, (b"authorization", f"Bearer {token}".encode())]
            return lambda: _asgi(app, "POST", CDS_PATH, headers, BODY)

        def health() -> Coroutine[Any, Any, int]:
            return _asgi(app, "GET", "/health", [])

        _cpu_per_call(loop, [cds(t) for t in warm], concurrency)
        if only_calls:  # for a sampling profiler run around the calls alone
            print(f"{_cpu_per_call(loop, [cds(t) for t in measured], concurrency):.3f} ms/call")
            return
        _cpu_per_call(loop, [health] * 200, concurrency)
        bare = _cpu_per_call(loop, [health] * calls, concurrency)
        threads: dict[str, float] = {}
        order_sign = _cpu_per_call(loop, [cds(t) for t in measured], concurrency, threads)
        token_check = _token_check(client, measured)
        public = jwt.PyJWK.from_dict(client.jwks["keys"][0]).key
        es384 = jwt.algorithms.get_default_algorithms()["ES384"]
        parts = [t.encode().rsplit(b".", 1) for t in measured]
        signatures = [(signed, jwt.utils.base64url_decode(sig)) for signed, sig in parts]
        start = time.process_time()
        for signed, signature in signatures:
            es384.verify(signed, public, signature)
        signature_check = 1000 * (time.process_time() - start) / len(measured)
        database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"in process, {database}, {calls} calls, {concurrency} at a time, "
              f"{os.cpu_count()} cores (shared)")  # fmt: skip
        print(f"{'':44} {'CPU ms/call':>11}")
        print(f"{'bare endpoint (GET /health, same stack)':44} {bare:>11.3f}")
        print(f"{'bare signed-token check (PyJWT, ES384)':44} {token_check:>11.3f}")
        print(f"{'  of which the P-384 signature check alone':44} {signature_check:>11.3f}")
        print(f"{'floor (bare endpoint + PyJWT check)':44} {bare + token_check:>11.3f}")
        print(f"{'CDS order-sign (every check, audit committed)':44} {order_sign:>11.3f}")
        print(f"{'  ratio to the floor':44} {order_sign / (bare + token_check):>11.2f}")
        for name, ms in sorted(threads.items(), key=lambda item: -item[1]):
            if ms >= 0.005:
                print(f"{'  in thread ' + name:44} {ms:>11.3f}")
        if profile:
            # The event loop's own CPU (thread_time): the recorder thread is measured apart above.
            profiler = cProfile.Profile(time.thread_time)
            profiler.enable()
            _cpu_per_call(loop, [cds(t) for t in profiled], concurrency)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs()
            stats.sort_stats("tottime").print_stats(30)
            print(out.getvalue())
    finally:
        services.close()
        loop.close()
        drop()


class Connections:
    """Keep-alive HTTP/1.1 connections to the server, opened when none is free."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, request: bytes) -> int:
        """Send one request; its status (0 when the connection failed). A kept-alive
        connection the server has closed meanwhile (idle past its keep-alive timeout) is
        replaced once, as an HTTP client does, and not counted as an error."""
        reused = bool(self.free)
        status = await self._post(request, self.free.pop() if reused else None)
        if status == 0 and reused:
            status = await self._post(request, None)
        return status

    async def _post(
        self, request: bytes, kept: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None
    ) -> int:
        try:
            reader, writer = kept or await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return 0
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line[15:])
            await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            writer.close()
            return 0
        self.free.append((reader, writer))
        return status


async def _open_loop(
    port: int, requests: list[bytes], rate: float
) -> tuple[list[float], Counter[int]]:
    """Offer ``requests`` at ``rate`` per second on a fixed schedule; latencies from when each
    was due (ms), and the statuses answered (0: the connection failed)."""
    connections = Connections(port)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2

    async def one(index: int, request: bytes) -> None:
        due = start + index / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        status = await connections.post(request)
        latencies.append(1000 * (loop.time() - due))
        statuses[status] += 1

    await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
    return latencies, statuses


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def under_load(rate: float, seconds: float, workers: int) -> None:
    """p50/p99 at a constant offered rate, and the server's CPU per call."""
    url, drop = _database()
    port = 19000 + os.getpid() % 1000
    base = f"http://127.0.0.1:{port}"
    client = Client(base + CDS_PATH)
    env = {**os.environ, "MESOSCREEN_DATABASE_URL": url, "MESOSCREEN_CDS_LINK_BASE": base,
           "MESOSCREEN_CDS_CLIENTS": json.dumps({ISSUER: {"jwks": client.jwks}})}  # fmt: skip
    command = [sys.executable, "-m", "mesoscreen", "serve", "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    server = subprocess.Popen(command, env=env)  # noqa: S603
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        count = int(rate * seconds)
        head = (f"POST {CDS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n")  # fmt: skip
        warm = [
            f"{head}Authorization: Bearer {t}\r\n\r\n".encode() + BODY
            for t in client.tokens(int(rate * 2))
        ]
        requests = [
            f"{head}Authorization: Bearer {t}\r\n\r\n".encode() + BODY for t in client.tokens(count)
        ]
        asyncio.run(_open_loop(port, warm, rate))
        cpu_before = _server_cpu_seconds(server.pid)
        latencies, statuses = asyncio.run(_open_loop(port, requests, rate))
        cpu = 1000 * (_server_cpu_seconds(server.pid) - cpu_before) / count
        # The floor under the same schedule: the bare endpoint through the same server.
        bare = [f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()] * count
        cpu_before = _server_cpu_seconds(server.pid)
        asyncio.run(_open_loop(port, bare, rate))
        floor = 1000 * (_server_cpu_seconds(server.pid) - cpu_before) / count
    finally:
        server.terminate()
        server.wait(30)
        drop()
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"open loop, {rate:.0f} calls/s offered for {seconds:.0f} s ({count} calls), "
          f"{workers} server workers, {database}, {os.cpu_count()} cores (shared)")  # fmt: skip
    print(f"p50 {_percentile(latencies, 0.50):.1f} ms   p99 {_percentile(latencies, 0.99):.1f} ms"
          f"   max {max(latencies):.1f} ms   errors {count - statuses[200]} {dict(statuses)}   "
          f"server CPU {cpu:.3f} ms/call")  # fmt: skip
    token_check = _token_check(client, client.tokens(1000))
    print(f"floor {floor + token_check:.3f} ms/call: GET /health on the same schedule "
          f"{floor:.3f} ms/request of server CPU + the bare signed-token check "
          f"{token_check:.3f} ms (PyJWT, ES384, this process)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--only-calls", action="store_true", help="no floors (for py-spy)")
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.load:
        under_load(args.rate, args.seconds, args.workers)
    else:
        in_process(args.calls, args.concurrency, args.profile, args.only_calls)


if __name__ == "__main__":
    main()
