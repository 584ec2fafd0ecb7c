"""Fixtures for the page tests: services on the shared test database, a browser-like client over
TLS, a staffed clinic, and helpers that fill the forms as a browser would (reading the CSRF token
from the page, never from the cookie jar)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from tests.factories import PASSWORD, ClinicStaff, seed_clinic

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


@pytest.fixture
def staff(services: Services) -> ClinicStaff:
    """A clinic with an admin, a clinician, a nurse and a receptionist."""
    return seed_clinic(services.accounts)


def new_browser(services: Services) -> TestClient:
    """A client that behaves like one browser over TLS (its own cookie jar)."""
    return TestClient(create_app(services.settings, services=services),
                      base_url="https://testserver")  # fmt: skip


@pytest.fixture
def browser(services: Services) -> Iterator[TestClient]:
    """One browser on the app."""
    with new_browser(services) as client:
        yield client


def csrf_in(html: str) -> str:
    """The CSRF token the page put in its forms."""
    found = _CSRF_FIELD.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, staff: ClinicStaff, role: Role) -> str:
    """Sign in through the form; the CSRF token the signed-in pages carry."""
    form_token = csrf_in(client.get("/signin").text)
    credentials = {"username": staff.users[role].username, "password": PASSWORD,
                   "csrf": form_token}  # fmt: skip
    response = client.post("/signin", data=credentials, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    assert page.status_code == 200, page.text
    return csrf_in(page.text)


def new_patient(client: TestClient, csrf: str, family: str = "Nguyen", sex: str = "female") -> str:
    """Register a patient through the form; the new patient's id."""
    response = client.post("/patients/new", data={"csrf": csrf, "family_name": family,
                           "given_name": "Lan", "birth_date": "1990-04-12", "sex": sex},
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).rsplit("/", 1)[1]


def screen(client: TestClient, csrf: str, patient: str, answers: dict[str, str]) -> str:
    """Post the intake; the new screening's id."""
    response = client.post(f"/patients/{patient}/intake", data={"csrf": csrf, **answers},
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).rsplit("/", 1)[1]
