"""Server CPU per request of the screening page and the screening API, beside the bare
endpoint in the same run, and where that CPU goes.

Run: .venv/bin/python -m benchmarks.bench_pages [--requests 400] [--profile] [--sample 5000]

(a) Starts `mesoscreen serve` (one worker; PostgreSQL when MESOSCREEN_BENCH_POSTGRES_URL or
the local test server answers, else SQLite), makes a clinician, a patient and a screening,
then sends each request ``--requests`` times, one after another on one keep-alive
connection: GET /health (the floor: the same server, no work), POST a screening through the
API (intake checked, decision, database write, audit entry) and GET the screening page
(session check, database reads, template, audit entry), of a patient with that one screening
and of a patient in treatment (a signed plan, a consent, a session and an adverse event, which
the page's patient header reads). It prints the server's CPU time per
request (its processes' user+system time from /proc, over the requests), which needs no
concurrency to measure; `benchmarks/bench_load.py` drives the same endpoints with wrk for
throughput and latency.

(b) With ``--profile``, the same requests run in this process through the ASGI app, with the
route functions called inline rather than in the thread pool so one cProfile sees them, and
the functions taking the most cumulative time are printed for each endpoint.

(c) With ``--sample N``, the same requests run N times each in this process, with the route
functions inline, under a statistical profiler on the CPU clock (``ITIMER_PROF``: the kernel
interrupts the process after each slice of CPU it used, and the Python stack of that moment
is counted). Unlike cProfile it adds no cost to each call, so the shares are those of the
real work; waiting for the database is not counted. The kernel's timer ticks every few
milliseconds of CPU, so N should be a few thousand. It prints the CPU per request in this
process (the in-process client included) and the functions with the largest share of the
samples, inclusive and then their own.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import io
import os
import pstats
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import anyio.to_thread
import httpx
from sqlalchemy import event
from tests.factories import plan_request, principal_for
from tests.intakes import intake

from benchmarks.bench_load import PASSWORD, _database, _server_cpu_seconds
from mesoscreen.bootstrap import Services, build_services, prepare_database
from mesoscreen.config import Settings
from mesoscreen.domain.access import Principal, Role
from mesoscreen.domain.records import EventOutcome
from mesoscreen.domain.vocabulary import Language
from mesoscreen.services.adverse_events import EventDetails
from mesoscreen.services.consents import PatientSignature
from mesoscreen.services.patients import PatientDetails
from mesoscreen.services.ports import Clock
from mesoscreen.services.treatment_sessions import SessionDetails


@dataclass(frozen=True)
class Setup:
    """What the requests need: a bearer token's username, its clinic, and the signed screening
    of a patient in treatment."""

    username: str
    clinic_id: str
    treated_screening_id: str


def _make_clinician(settings: Settings) -> Setup:
    """A clinic, a clinician in it, and a patient in treatment, made through the services."""
    services = build_services(settings)
    try:
        clinic = services.accounts.create_clinic_locally(f"Pages {uuid.uuid4().hex[:6]}")
        admin = services.accounts.create_admin_locally(
            f"admin-{uuid.uuid4().hex[:6]}", PASSWORD, [clinic.name]
        )
        clinician = services.accounts.create_user(
            principal_for(admin), f"doc-{uuid.uuid4().hex[:6]}", PASSWORD, Role.CLINICIAN,
            [clinic.id],
        )  # fmt: skip
        treated = _treated(services, principal_for(clinician), clinic.id)
    finally:
        services.close()
    return Setup(clinician.username, clinic.id, treated)


def _treated(services: Services, clinician: Principal, clinic_id: str) -> str:
    """A patient screened (signed), with a signed plan, a countersigned consent, a session
    and an adverse event: the screening's id (its page's header reads every kind)."""
    details = PatientDetails(family_name="Pages", given_name="Treated")
    patient = services.patients.register(clinician, clinic_id, details)
    screening = services.screenings.screen_intake(clinician, patient.id, intake("female"))
    screening = services.screenings.sign(clinician, screening.id, screening.version)
    plan = services.plans.create(clinician, screening.id, plan_request())
    plan = services.plans.sign(clinician, plan.id, plan.version)
    typed = PatientSignature("typed", "Pages Treated", True)
    consent = services.consents.take(clinician, screening.id, Language.EN, typed)
    services.consents.countersign(clinician, consent.id, consent.version)
    services.treatment_sessions.create(clinician, patient.id, SessionDetails(
        performed_at=services.clock.now(), points=[{"number": 1, "volume_ml": 0.1}],
        products=[{"name": "Dutasteride", "lot_number": "L1", "expiry": "2027-06-30"}],
        depth_mm=1.0, plan_id=plan.id))  # fmt: skip
    services.adverse_events.report(clinician, patient.id, EventDetails(
        onset_at=services.clock.now(), severity_grade=1, outcome=EventOutcome.RECOVERING,
        complication_id="bruising", follow_up_on=services.clock.today()))  # fmt: skip
    return screening.id


@dataclass(frozen=True)
class Requests:
    """The requests, ready to send with a client."""

    health: tuple[str, str, dict[str, Any]]
    api: tuple[str, str, dict[str, Any]]
    page: tuple[str, str, dict[str, Any]]
    treated_page: tuple[str, str, dict[str, Any]]


def _prepare(client: httpx.Client, setup: Setup) -> Requests:
    """Sign in (token and cookie), make a patient and a screening; the requests to time."""
    credentials = {"username": setup.username, "password": PASSWORD}
    token = client.post("/api/v1/auth/token", json=credentials).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    # The page shows a patient with one screening; the API's screenings go to another
    # patient (the page's header reads the patient's records, which would grow with them).
    shown, screened = (
        client.post(
            "/api/v1/patients",
            headers=bearer,
            json={"clinic_id": setup.clinic_id, "family_name": "Pages", "given_name": given},
        ).json()
        for given in ("Shown", "Screened")
    )
    body = {"answers": intake("female")}
    screening = client.post(
        f"/api/v1/patients/{shown['id']}/screenings", headers=bearer, json=body
    ).json()
    screenings = f"/api/v1/patients/{screened['id']}/screenings"
    client.post("/api/v1/auth/login", json=credentials)  # the cookie stays in the client
    return Requests(
        ("GET", "/health", {}),
        ("POST", screenings, {"headers": bearer, "json": body}),
        ("GET", f"/screenings/{screening['id']}", {}),
        ("GET", f"/screenings/{setup.treated_screening_id}", {}),
    )


def measure_server(requests: int) -> None:
    """(a) Server CPU per request, each endpoint after the other, with the floor."""
    url, schema = _database()
    settings = Settings(database_url=url)
    port = 19000 + uuid.uuid4().int % 1000
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MESOSCREEN_DATABASE_URL": url}
    server = subprocess.Popen(  # noqa: S603 (our own CLI)
        [sys.executable, "-m", "mesoscreen", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(300):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            prepared = _prepare(client, _make_clinician(settings))
            print(f"(a) server CPU per request, `mesoscreen serve` (1 worker, "
                  f"{'PostgreSQL' if schema else 'SQLite'}), {requests} requests each, "
                  f"one at a time")  # fmt: skip
            floor = 0.0
            for name, (method, path, options) in (
                ("bare endpoint (GET /health)", prepared.health),
                ("screening API (POST, DB write + audit)", prepared.api),
                ("screening page (GET, DB read + audit)", prepared.page),
                ("  the same, a patient in treatment", prepared.treated_page),
            ):
                for _ in range(20):  # warm up
                    client.request(method, path, **options).raise_for_status()
                before = _server_cpu_seconds(server.pid)
                start = time.perf_counter()
                for _ in range(requests):
                    client.request(method, path, **options).raise_for_status()
                wall = time.perf_counter() - start
                cpu_ms = 1000 * (_server_cpu_seconds(server.pid) - before) / requests
                floor = floor or cpu_ms
                print(f"    {name:42} {cpu_ms:6.2f} ms CPU/request ({cpu_ms - floor:5.2f} over "
                      f"the floor), {1000 * wall / requests:6.2f} ms wall")  # fmt: skip
    finally:
        server.terminate()
        server.wait(20)
        if schema:
            _drop(url, schema)


def _drop(url: str, schema: str) -> None:
    import psycopg

    plain = url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def fresh_services(clock: Clock | None = None) -> Iterator[Services]:
    """The services on a fresh PostgreSQL schema of the local test server (or
    MESOSCREEN_BENCH_POSTGRES_URL; else a SQLite file), with cheap password hashing, closed
    and the schema dropped afterwards: the set-up of the in-process benchmarks."""
    url, schema = _database()
    settings = Settings(database_url=url, argon2_time_cost=1, argon2_memory_kib=8192)
    prepare_database(settings)
    services = build_services(settings, clock)
    try:
        yield services
    finally:
        services.close()
        if schema:
            _drop(url, schema)


def cpu_rounds(work: Callable[[], object], times: int, rounds: int, warm: int = 200) -> list[float]:
    """Microseconds of this process's CPU (user+system) a call of ``work``, in each of
    ``rounds`` rounds of ``times`` calls, after ``warm`` calls (the pool, the statement
    caches)."""
    for _ in range(warm):
        work()
    per: list[float] = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(times):
            work()
        per.append(1e6 * (time.process_time() - start) / times)
    return per


def rounds_text(per: Sequence[float], unit: str) -> str:
    """Each round's figure, the lowest and the median, as the in-process benchmarks print."""
    return (", ".join(f"{us:.0f}" for us in per) + f" us CPU {unit}; lowest {min(per):.0f}, "
            f"median {statistics.median(per):.0f}")  # fmt: skip


async def _inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
    """Run a sync function at once in the event loop's thread (for the profiler)."""
    return func(*args)


def profile_in_process(requests: int, top: int, samples: int = 0) -> None:
    """(b) The endpoints' cumulative profile, in this process; (c) with ``samples``, their
    statistical CPU profile over that many requests each instead."""
    from mesoscreen.entrypoints.api import create_app

    url, schema = _database()
    settings = Settings(database_url=url)
    prepare_database(settings)
    setup = _make_clinician(settings)
    app = create_app(settings)
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    try:
        with httpx.Client(
            transport=_SyncASGI(app), base_url="http://127.0.0.1", timeout=10
        ) as client:
            prepared = _prepare(client, setup)
            for name, (method, path, options) in (
                ("screening API (POST)", prepared.api),
                ("screening page (GET)", prepared.page),
                ("screening page of a patient in treatment (GET)", prepared.treated_page),
            ):
                for _ in range(20):
                    client.request(method, path, **options).raise_for_status()
                if samples:
                    sent = functools.partial(client.request, method, path, **options)
                    _sample(name, sent, samples, top)
                    continue
                counts = _count_statements(app.state.services.engine, client, method, path,
                                           options, requests)  # fmt: skip
                print(
                    f"(b) {name}: {counts[0]:.1f} SQL statements and {counts[1]:.1f} "
                    "transactions a request"
                )
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                for _ in range(requests):
                    client.request(method, path, **options).raise_for_status()
                profiler.disable()
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                total = stats.total_tt  # type: ignore[attr-defined]
                print(f"(b) {name}: {1000 * total / requests:.2f} ms of CPU a request under "
                      f"cProfile (in process, no HTTP server); Mesoscreen's functions by "
                      f"cumulative CPU time, then all by own CPU time")  # fmt: skip
                stats.sort_stats("cumulative").print_stats("mesoscreen/", top)
                print("\n".join(_trim(out.getvalue())))
                out.seek(0)
                out.truncate()
                stats.sort_stats("tottime").print_stats(top // 2)
                print("\n".join(_trim(out.getvalue())))
    finally:
        app.state.services.close()
        if schema:
            _drop(url, schema)


def _sample(name: str, request: Callable[[], httpx.Response], requests: int, top: int) -> None:
    """(c) ``request`` sent ``requests`` times under a statistical profiler on the CPU clock."""
    stacks: Counter[tuple[str, ...]] = Counter()

    def where(frame: FrameType | None) -> tuple[str, ...]:
        found = []
        while frame is not None:
            code = frame.f_code
            place = code.co_filename.replace(sys.prefix, "<venv>").replace(SOURCE, "")
            found.append(f"{code.co_name} ({place.split('site-packages/')[-1]})")
            frame = frame.f_back
        return tuple(reversed(found))

    def tick(_signal: int, frame: FrameType | None) -> None:
        stacks[where(frame)] += 1

    # The shares are of the app's samples, each stack cut where the app is called (the
    # in-process client's own work is left out).
    app = "__call__ (fastapi/applications.py)"

    previous = signal.signal(signal.SIGPROF, tick)
    signal.setitimer(signal.ITIMER_PROF, 0.0002, 0.0002)
    start = time.process_time()
    try:
        for _ in range(requests):
            request().raise_for_status()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, previous)
    cpu = time.process_time() - start
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for stack, count in stacks.items():
        if app in stack:
            inclusive.update(dict.fromkeys(stack[stack.index(app) :], count))
            own[stack[-1]] += count
    total = inclusive[app]
    print(f"(c) {name}: {1000 * cpu / requests:.2f} ms of CPU a request in process, the app "
          f"{1000 * cpu / requests * total / max(1, sum(stacks.values())):.2f} ms ({total} "
          f"samples); the app's functions by share of its samples, inclusive, then their "
          f"own")  # fmt: skip
    for counter in (inclusive, own):
        for function, count in counter.most_common(top):
            print(f"    {100 * count / total:5.1f}%  {function}")


def _count_statements(engine: Any, client: httpx.Client, method: str, path: str,
                      options: dict[str, Any], requests: int) -> tuple[float, float]:  # fmt: skip
    """SQL statements and committed transactions per request (deterministic, unlike time)."""
    seen = {"statements": 0, "commits": 0}

    def statement(*_: Any) -> None:
        seen["statements"] += 1

    def commit(*_: Any) -> None:
        seen["commits"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        for _ in range(requests):
            client.request(method, path, **options).raise_for_status()
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    return seen["statements"] / requests, seen["commits"] / requests


def _trim(report: str) -> list[str]:
    """The table of a pstats report, without its header lines."""
    lines = report.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return [
        ln.replace(sys.prefix, "<venv>").replace(SOURCE, "") for ln in lines[start:] if ln.strip()
    ]


SOURCE = str(Path(__file__).resolve().parents[1]) + "/"


class _SyncASGI(httpx.BaseTransport):
    """An httpx transport that runs each request through an ASGI app on one event loop."""

    def __init__(self, app: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._transport.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return self._run(send())

    def _run(self, work: Awaitable[httpx.Response]) -> httpx.Response:
        return self._loop.run_until_complete(work)

    def close(self) -> None:
        self._loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--profile", action="store_true", help="(b) the profile in process")
    parser.add_argument("--sample", type=int, default=0, metavar="N",
                        help="(c) N requests each under a CPU-clock sampler")  # fmt: skip
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    if not args.skip_server:
        measure_server(args.requests)
    if args.profile:
        profile_in_process(min(args.requests, 200), args.top)
    if args.sample:
        profile_in_process(0, args.top, samples=args.sample)


if __name__ == "__main__":
    main()
