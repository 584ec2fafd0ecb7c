"""Hostile and careless input is refused early with clear problems; no patient data in logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import TwoClinics
from tests.intakes import intake
from tests.integration.api.conftest import bearer
from tests.integration.web.conftest import new_browser, sign_in


def test_a_body_that_is_not_json_is_415_naming_the_header(
    client: TestClient, clinics: TwoClinics
) -> None:
    headers = bearer(client, clinics.a.users[Role.NURSE]) | {"Content-Type": "text/plain"}
    response = client.post("/api/v1/patients", content=b"family_name=x", headers=headers)
    assert response.status_code == 415
    assert response.json()["detail"].startswith("Content-Type: expected application/json")


def test_an_oversized_body_is_413(client: TestClient, clinics: TwoClinics) -> None:
    headers = bearer(client, clinics.a.users[Role.NURSE]) | {"Content-Type": "application/json"}
    response = client.post("/api/v1/patients", content=b" " * 2_000_000, headers=headers)
    assert response.status_code == 413


def test_no_patient_name_reaches_any_log_line(
    client: TestClient, services: Services, clinics: TwoClinics, caplog: pytest.LogCaptureFixture
) -> None:
    """A whole visit (pages, API, refusals, errors) at DEBUG: the seeded names never appear."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # SQL logging, as when debugging
    family, given = "Zyxwquorra", "Vellantine"
    with new_browser(services) as browser:
        csrf = sign_in(browser, clinics.a, Role.CLINICIAN)
        created = browser.post("/patients/new", data={"csrf": csrf, "family_name": family,
                               "given_name": given, "birth_date": "1990-01-01"},
                               follow_redirects=False)  # fmt: skip
        assert created.status_code == 303, created.text
        patient = created.headers["location"].rsplit("/", 1)[1]
        browser.post(f"/patients/{patient}/intake", data={"csrf": csrf, **intake("female")})
        browser.get(f"/patients?q={family}")
    user = clinics.a.users[Role.CLINICIAN]
    headers = bearer(client, user)
    client.get(f"/api/v1/patients?name={family}", headers=headers)
    client.post("/api/v1/patients", json={"clinic_id": "nope", "family_name": family,
                                          "given_name": given}, headers=headers)  # fmt: skip
    client.post("/api/v1/patients", json={"clinic_id": clinics.a.clinic.id,
                                          "family_name": family, "given_name": given,
                                          "birth_date": "2999-01-01"}, headers=headers)  # fmt: skip
    reception = bearer(client, clinics.a.users[Role.RECEPTION])
    client.get(f"/api/v1/patients/{patient}/screenings", headers=reception)
    # The server's records (the test's own HTTP client logs its requests; it is not the service).
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert server, "the visit should have logged something"
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in server)
    assert family not in text
    assert given not in text


def test_access_log_lines_name_the_route_never_the_query_or_an_id_slot() -> None:
    """uvicorn's access line keeps the route template: no query string, and a name typed where
    an id belongs (or in a path no route matches) is not written either."""
    from mesoscreen.entrypoints.api.log_privacy import AccessLogRedactor

    redactor = AccessLogRedactor()
    redactor.use_routes(
        ["/", "/patients", "/patients/{patient_id}", "/api/v1/patients/{patient_id}"]
    )
    for path, logged in [
        ("/patients?q=Zyxwquorra", "/patients?…"),
        ("/patients/Zyxwquorra", "/patients/{patient_id}"),
        ("/api/v1/patients/Zyxwquorra?x=1", "/api/v1/patients/{patient_id}?…"),
        ("/api/v1/patients/Zyxwquorra/more", "/api/…"),
        ("/Zyxwquorra", "/…"),
        ("/", "/"),
    ]:
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                                   '%s - "%s %s HTTP/%s" %d',
                                   ("127.0.0.1:5000", "GET", path, "1.1", 200), None)  # fmt: skip
        redactor.filter(record)
        assert record.getMessage() == f'127.0.0.1:5000 - "GET {logged} HTTP/1.1" 200'
