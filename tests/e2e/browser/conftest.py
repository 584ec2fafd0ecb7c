"""A real server on a free loopback port and Debian's Chromium driven by Playwright.

Never a downloaded browser: Chromium comes from Debian (`.ci/run` installs it). Each test
saves a screenshot on failure under `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from tests.conftest import migrated_database
from tests.factories import PASSWORD, ClinicStaff, records_settings, seed_clinic
from tests.fakes import FrozenClock

CHROMIUM = os.environ.get("MESOSCREEN_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).parents[3] / "test-artifacts" / "screenshots"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Remember each phase's report on the item, so fixtures can see a failure."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(services: Services) -> Iterator[str]:
    """The app on ``services`` served on a free loopback port: its base URL."""
    port = _free_port()
    config = uvicorn.Config(create_app(services.settings, services=services),
                            host="127.0.0.1", port=port, log_level="warning")  # fmt: skip
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ClinicStaff]]:
    """The service on an embedded SQLite file, with one staffed clinic, on a frozen clock
    (25 Nov 2026, 09:00 UTC) so the dates a visit reads are always the same."""
    with migrated_database("sqlite", tmp_path_factory.mktemp("browser-db")) as url:
        services = build_services(records_settings(url), FrozenClock())
        staff = seed_clinic(services.accounts)
        with serving(services) as base:
            yield base, staff
        services.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context and page; a screenshot if the test failed."""
    # A tablet in a clinic in Vietnam, in English until a test switches.
    context = chromium.new_context(viewport={"width": 1024, "height": 768},
                                   timezone_id="Asia/Ho_Chi_Minh", locale="en-GB")  # fmt: skip
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def sign_in(page: Any, base: str, staff: ClinicStaff, role: Role) -> None:
    """Sign in through the form as the clinic's user with ``role``; lands on the Today page."""
    page.goto(f"{base}/signin")
    page.get_by_label("Username").fill(staff.users[role].username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/today")
