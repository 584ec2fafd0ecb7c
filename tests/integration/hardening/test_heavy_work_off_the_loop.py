"""CPU-heavy work (decoding photos, Argon2) runs off the event loop, at most
``heavy_work_threads`` at once, through the API and the pages alike; ``/health`` answers while
it runs.

Asserted by order and counts, never by timing: each heavy call is held in its worker thread
until the test releases it, so the test sees how many run at once, whether any ran on the event
loop's own thread (it is then not held, so a regression fails the test instead of hanging it),
and that ``/health`` answered while the bound was taken.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from mesoscreen.services.patients import PatientDetails
from tests.event_loops import on_a_loop_of_its_own
from tests.factories import PASSWORD, ClinicStaff, records_settings, seed_clinic
from tests.fakes import FrozenClock
from tests.images import png

BOUND = 2  # heavy_work_threads of these tests
CALLS = 6  # more than the bound, so some must wait their turn
# A large picture of few bytes: millions of pixels to decode and re-encode.
LARGE_PNG = png(2500, 2500)
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
R = TypeVar("R")


class HeldWork:
    """Wraps heavy calls: counts those running at once and holds each until released."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.loop_thread: int | None = None
        self.running = 0
        self.peak = 0
        self.calls = 0
        self.on_the_loop = 0

    def wrap(self, func: Callable[..., R]) -> Callable[..., R]:
        """``func``, counted and held (never held on the event loop's thread)."""

        def held(*args: Any, **kwargs: Any) -> R:
            with self.lock:
                self.calls += 1
                on_loop = threading.get_ident() == self.loop_thread
                if on_loop:
                    self.on_the_loop += 1
                else:
                    self.running += 1
                    self.peak = max(self.peak, self.running)
            try:
                if not on_loop:
                    # A guard against a hang only: the test releases every call itself.
                    assert self.release.wait(timeout=60), "never released"
                return func(*args, **kwargs)
            finally:
                if not on_loop:
                    with self.lock:
                        self.running -= 1

        return held


class _HeldHasher:
    """The service's password hasher with each hash and check held."""

    def __init__(self, hasher: Any, held: HeldWork) -> None:
        self.hash = held.wrap(hasher.hash)
        self.verify = held.wrap(hasher.verify)


@pytest.fixture
def bounded(database_url: str) -> Iterator[Services]:
    """Services whose app runs at most BOUND heavy calls at once."""
    built = build_services(records_settings(database_url, heavy_work_threads=BOUND), FrozenClock())
    yield built
    built.close()


async def _held_while(
    http: httpx.AsyncClient, held: HeldWork, requests: list[Callable[[], Any]]
) -> tuple[int, int, list[httpx.Response]]:
    """Send ``requests`` together; once the bound is taken (or all are done), ask /health.
    Returns /health's status, how many heavy calls were held when it answered, and the
    responses once every call is released."""
    held.loop_thread = threading.get_ident()
    sent = [asyncio.ensure_future(request()) for request in requests]
    for _ in range(4000):  # a guard against a hang only, as above
        if held.running >= BOUND or all(task.done() for task in sent):
            break
        await asyncio.sleep(0.005)
    health = await http.get("/health")
    running_at_health = held.running
    held.release.set()
    responses = await asyncio.gather(*sent)
    return health.status_code, running_at_health, list(responses)


def _check(held: HeldWork, health: int, running_at_health: int) -> None:
    """Nothing on the loop, the bound reached and never passed, /health answered meanwhile."""
    assert held.on_the_loop == 0, f"{held.on_the_loop} of {held.calls} heavy calls on the loop"
    assert held.peak == BOUND, f"at most {BOUND} at once expected (peak {held.peak})"
    assert health == 200
    assert running_at_health == BOUND, "/health should answer while the heavy work runs"


async def _signed_in_page(http: httpx.AsyncClient, staff: ClinicStaff) -> str:
    """Sign a page client in; the CSRF token of its forms."""
    found = _CSRF.search((await http.get("/signin")).text)
    assert found
    user = staff.users[Role.NURSE]
    form = {"username": user.username, "password": PASSWORD, "csrf": found.group(1)}
    signed_in = await http.post("/signin", data=form)
    assert signed_in.status_code == 303, signed_in.text
    found = _CSRF.search((await http.get(signed_in.headers["location"])).text)
    assert found
    return found.group(1)


@pytest.mark.parametrize("surface", ["api", "pages"])
def test_large_photo_uploads_are_decoded_off_the_loop_within_the_bound(
    bounded: Services, surface: str
) -> None:
    """Six uploads of a 2500 x 2500 PNG at once: two decoded at a time in worker threads,
    none on the event loop, and /health answers while they are held."""
    staff = seed_clinic(bounded.accounts)
    nurse = staff.principal(Role.NURSE)
    patient = bounded.patients.register(nurse, staff.clinic.id, PatientDetails("Tran", "Lan")).id
    held = HeldWork()
    app = create_app(bounded.settings, services=bounded)
    form = {"view": "vertex", "taken_on": "2026-11-20"}
    files = {"photo": ("scalp.png", LARGE_PNG, "image/png")}

    async def visit() -> tuple[int, int, list[httpx.Response]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            if surface == "api":
                token = bounded.authentication.login(
                    staff.users[Role.NURSE].username, PASSWORD, "bearer", None
                ).token
                route, headers, data = (f"/api/v1/patients/{patient}/photos",
                                        {"Authorization": f"Bearer {token}"}, form)  # fmt: skip
            else:
                csrf = await _signed_in_page(http, staff)
                route, headers, data = (f"/patients/{patient}/photos", {},
                                        form | {"csrf": csrf})  # fmt: skip
            bounded.photos.sanitiser.sanitise = held.wrap(  # type: ignore[method-assign]
                bounded.photos.sanitiser.sanitise
            )

            def upload() -> Any:
                return http.post(route, data=data, files=files, headers=headers)

            return await _held_while(http, held, [upload] * CALLS)

    health, running_at_health, responses = on_a_loop_of_its_own(visit)
    _check(held, health, running_at_health)
    expected = 201 if surface == "api" else 303
    assert [r.status_code for r in responses] == [expected] * CALLS, responses[0].text
    assert held.calls == CALLS


def test_sign_ins_check_argon2_hashes_off_the_loop_within_the_bound(bounded: Services) -> None:
    """Sign-ins through the API's token and cookie routes and the pages' form, six at once:
    two Argon2 checks at a time in worker threads, none on the event loop."""
    staff = seed_clinic(bounded.accounts)
    held = HeldWork()
    app = create_app(bounded.settings, services=bounded)
    user = staff.users[Role.CLINICIAN]
    credentials = {"username": user.username, "password": PASSWORD}

    async def visit() -> tuple[int, int, list[httpx.Response]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            found = _CSRF.search((await http.get("/signin")).text)
            assert found
            page_form = credentials | {"csrf": found.group(1)}
            hasher = _HeldHasher(bounded.authentication.hasher, held)
            bounded.authentication.hasher = hasher  # type: ignore[assignment]
            requests: list[Callable[[], Any]] = [
                lambda: http.post("/api/v1/auth/token", json=credentials),
                lambda: http.post("/api/v1/auth/login", json=credentials),
                lambda: http.post("/signin", data=page_form),
            ] * (CALLS // 3)
            return await _held_while(http, held, requests)

    health, running_at_health, responses = on_a_loop_of_its_own(visit)
    _check(held, health, running_at_health)
    assert [r.status_code for r in responses] == [200, 200, 303] * (CALLS // 3)
    assert held.calls == CALLS
