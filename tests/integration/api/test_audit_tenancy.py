"""Audit reads respect tenancy: an admin of clinic B never reads clinic A's entries through any
route (list, export in both formats, FHIR AuditEvent, the admin page), on SQLite and PostgreSQL.
Entries of no clinic (a failed sign-in under an unknown name) are read only by an admin of every
clinic."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from tests.factories import PASSWORD, TwoClinics, records_settings, seed_two_clinics, unique
from tests.fakes import FrozenClock
from tests.integration.api.conftest import bearer
from tests.integration.api.records import ok
from tests.integration.web.conftest import csrf_in

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

# Where clinic A's staff work from: TEST-NET-2, as the sign-in flood tests count TEST-NET-3.
A_ADDRESS = "198.51.100.7"


@dataclass
class ClinicAActivity:
    """What clinic A did: the ids and the address that must not reach B's admin."""

    patient_id: str
    secrets: set[str]


def _act_in_clinic_a(client: TestClient, clinics: TwoClinics) -> ClinicAActivity:
    """A's staff register, read and search a patient, and fail a sign-in, from A's address."""
    with TestClient(client.app, client=(A_ADDRESS, 50000)) as at_a:
        clinician = bearer(at_a, clinics.a.users[Role.CLINICIAN])
        body = {"clinic_id": clinics.a.clinic.id, "family_name": "Vo", "given_name": "An"}
        patient = ok(at_a.post("/api/v1/patients", json=body, headers=clinician), 201)["id"]
        ok(at_a.get(f"/api/v1/patients/{patient}", headers=clinician))
        ok(at_a.get("/api/v1/patients", params={"name": "vo"}, headers=clinician))
        wrong = {"username": clinics.a.users[Role.NURSE].username, "password": "not it at all"}
        assert at_a.post("/api/v1/auth/token", json=wrong).status_code == 401
        ok(at_a.get("/api/v1/users", headers=bearer(at_a, clinics.a.users[Role.ADMIN])))
    secrets = {clinics.a.clinic.id, patient, A_ADDRESS} | {u.id for u in clinics.a.users.values()}
    return ClinicAActivity(patient, secrets)


def _every_entry(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every entry of /api/v1/audit the caller may read, page by page."""
    entries: list[dict[str, Any]] = []
    while True:
        page = ok(client.get("/api/v1/audit", params={"offset": len(entries), "limit": 200},
                             headers=headers))  # fmt: skip
        entries += page["items"]
        if not page["items"] or len(entries) >= page["total"]:
            return entries


def _bodies_read_by(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    """What each audit route of the API answers the caller, as text."""
    return {
        "list": json.dumps(_every_entry(client, headers)),
        "export": client.get("/api/v1/audit/export", headers=headers).text,
        "export-fhir": client.get(
            "/api/v1/audit/export", params={"format": "fhir"}, headers=headers
        ).text,
        "fhir": client.get("/fhir/AuditEvent", params={"_count": 200}, headers=headers).text,
    }


def test_no_audit_route_shows_clinic_b_s_admin_any_of_clinic_a_s_entries(
    client: TestClient, clinics: TwoClinics
) -> None:
    """List, export, FHIR export and /fhir/AuditEvent: none of A's ids or addresses, but B's own."""
    activity = _act_in_clinic_a(client, clinics)
    b_admin = bearer(client, clinics.b.users[Role.ADMIN])
    for route, body in _bodies_read_by(client, b_admin).items():
        leaked = [secret for secret in activity.secrets if secret in body]
        assert leaked == [], f"{route} shows clinic A's {leaked}"
        # B's admin signing in is B's own entry: the routes do answer, only without A.
        assert clinics.b.users[Role.ADMIN].id in body, route


def test_clinic_a_s_admin_reads_a_s_patient_entries_and_the_failed_sign_in_of_a_s_nurse(
    client: TestClient, clinics: TwoClinics
) -> None:
    """The filter keeps what the admin runs: A's patient reads and the attack on A's nurse."""
    activity = _act_in_clinic_a(client, clinics)
    entries = _every_entry(client, bearer(client, clinics.a.users[Role.ADMIN]))
    assert {"patient.create", "patient.read"} <= {
        e["event_type"] for e in entries if e["patient_id"] == activity.patient_id
    }
    nurse = clinics.a.users[Role.NURSE].id
    assert any(
        e["event_type"] == "user.login" and e["outcome"] == "failure" and e["actor_id"] == nurse
        for e in entries
    )
    assert all(e["clinic_id"] in (clinics.a.clinic.id, None) for e in entries)


def test_a_failed_sign_in_under_an_unknown_name_is_read_by_no_clinic_admin(
    client: TestClient, clinics: TwoClinics
) -> None:
    """It belongs to no clinic: neither A's nor B's admin reads it (the address is A's)."""
    with TestClient(client.app, client=("192.0.2.23", 50000)) as stranger:
        unknown = {"username": unique("nobody"), "password": "guessing a password"}
        assert stranger.post("/api/v1/auth/token", json=unknown).status_code == 401
    for clinic in (clinics.a, clinics.b):
        body = json.dumps(_every_entry(client, bearer(client, clinic.users[Role.ADMIN])))
        assert "192.0.2.23" not in body


def test_a_user_of_both_clinics_signing_in_is_read_by_both_admins(
    client: TestClient, clinics: TwoClinics, services: Services
) -> None:
    """A sign-in concerns every clinic of the user; a change by A's admin concerns only A."""
    both = clinics.a.users[Role.CLINICIAN]
    services.accounts.update_user(
        clinics.a.principal(Role.ADMIN), both.id, both.version, both.role,
        [clinics.a.clinic.id], False,
    )  # fmt: skip
    group = build_both_clinic_admin(services, clinics)
    joined = services.accounts.get_user(group, both.id)
    services.accounts.update_user(
        group, both.id, joined.version, both.role,
        [clinics.a.clinic.id, clinics.b.clinic.id], False,
    )  # fmt: skip
    bearer(client, both)
    for clinic in (clinics.a, clinics.b):
        entries = _every_entry(client, bearer(client, clinic.users[Role.ADMIN]))
        assert any(
            e["event_type"] == "user.login"
            and e["actor_id"] == both.id
            and e["outcome"] == "success"
            for e in entries
        ), clinic.clinic.name
    b_entries = _every_entry(client, bearer(client, clinics.b.users[Role.ADMIN]))
    by_a_admin = clinics.a.users[Role.ADMIN].id
    assert not [e for e in b_entries if e["actor_id"] == by_a_admin]


def build_both_clinic_admin(services: Services, clinics: TwoClinics) -> Any:
    """An admin of A and B made on the server (as an operator would with `admin create`)."""
    from tests.factories import principal_for

    admin = services.accounts.create_admin_locally(
        unique("both-admin"), PASSWORD, [clinics.a.clinic.name, clinics.b.clinic.name]
    )
    return principal_for(admin)


def test_the_admin_audit_page_shows_clinic_b_s_admin_none_of_clinic_a_s_entries(
    client: TestClient, clinics: TwoClinics, services: Services
) -> None:
    """/admin/audit lists B's entries only: no A address, no A record id, no A-only event."""
    activity = _act_in_clinic_a(client, clinics)
    with TestClient(create_app(services.settings, services=services),
                    base_url="https://testserver") as browser:  # fmt: skip
        form_token = csrf_in(browser.get("/signin").text)
        credentials = {"username": clinics.b.users[Role.ADMIN].username, "password": PASSWORD,
                       "csrf": form_token}  # fmt: skip
        assert browser.post("/signin", data=credentials, follow_redirects=False).status_code == 303
        page = browser.get("/admin/audit?days=1").text
    assert "user.login" in page
    assert A_ADDRESS not in page
    assert activity.patient_id[:8] not in page
    assert "patient.create" not in page


@pytest.fixture
def group_services(fresh_database_url: str) -> Iterator[Services]:
    """Services on a database of this test alone, where one admin can run every clinic."""
    built = build_services(records_settings(fresh_database_url), FrozenClock())
    yield built
    built.close()


def test_an_admin_of_every_clinic_reads_the_entries_of_no_clinic(
    group_services: Services,
) -> None:
    """Unknown-name sign-in failures and server-side acts are read by the group's admin only."""
    from mesoscreen.domain.access import AuthenticationError
    from tests.factories import principal_for

    clinics = seed_two_clinics(group_services.accounts)
    with pytest.raises(AuthenticationError):
        group_services.authentication.login("nobody-at-all", "a wrong password", "bearer", "x")
    group = principal_for(
        group_services.accounts.create_admin_locally(
            "group-admin", PASSWORD, [clinics.a.clinic.name, clinics.b.clinic.name]
        )
    )

    def unknown_name_failures(principal: Any) -> int:
        page = group_services.audit.report(principal, None, None, limit=200)
        return sum(
            1 for s in page.items if s.entry.event_type == "user.login" and s.entry.actor_id is None
        )

    assert unknown_name_failures(group) == 1
    assert unknown_name_failures(clinics.a.principal(Role.ADMIN)) == 0
    assert unknown_name_failures(clinics.b.principal(Role.ADMIN)) == 0
    exported = group_services.audit.export(clinics.b.principal(Role.ADMIN), None, None)
    assert all(clinics.b.clinic.id in s.entry.clinic_ids() for s in exported)
    assert len(group_services.audit.export(group, None, None)) > len(exported)
