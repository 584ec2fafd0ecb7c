"""Admins change only what lies within the clinics they run, never their own role, and their
refusals reveal no other clinic's users: through the API, the pages and the command line, on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Principal, Role
from mesoscreen.domain.records import User
from mesoscreen.entrypoints import exit_codes
from mesoscreen.entrypoints.cli import main
from tests.factories import PASSWORD, TwoClinics, principal_for, unique
from tests.integration.api.conftest import bearer
from tests.integration.web.conftest import new_browser, sign_in


def _works_in_both(services: Services, clinics: TwoClinics, role: Role = Role.NURSE) -> User:
    """A's user of ``role`` who also works in B, joined by an admin of both clinics."""
    group: Principal = principal_for(
        services.accounts.create_admin_locally(
            unique("group"), PASSWORD, [clinics.a.clinic.name, clinics.b.clinic.name]
        )
    )
    user = clinics.a.users[role]
    joined = services.accounts.update_user(
        group, user.id, user.version, user.role,
        [clinics.a.clinic.id, clinics.b.clinic.id], False,
    )  # fmt: skip
    return _reload(services, joined.id)


def _reload(services: Services, user_id: str) -> User:
    with services.accounts.uow() as uow:
        return uow.users.get(user_id)


def _change(
    client: TestClient, headers: dict[str, str], user: User, **changes: object
) -> tuple[int, str]:
    body = {"role": user.role.value, "clinic_ids": [], "disabled": user.disabled} | changes
    response = client.put(
        f"/api/v1/users/{user.id}", json=body, headers=headers | {"If-Match": f'W/"{user.version}"'}
    )
    return response.status_code, response.text


def test_an_admin_of_one_clinic_cannot_promote_disable_or_unlock_a_user_of_two(
    client: TestClient, clinics: TwoClinics, services: Services
) -> None:
    """A's admin gets 403 for the nurse who also works in B; the nurse is left as they were."""
    nurse = _works_in_both(services, clinics)
    a_admin = bearer(client, clinics.a.users[Role.ADMIN])
    mine = [clinics.a.clinic.id]
    assert _change(client, a_admin, nurse, role="admin", clinic_ids=mine)[0] == 403
    assert _change(client, a_admin, nurse, disabled=True, clinic_ids=mine)[0] == 403
    assert client.post(f"/api/v1/users/{nurse.id}/unlock", headers=a_admin).status_code == 403
    after = _reload(services, nurse.id)
    assert (after.role, after.disabled, after.version) == (Role.NURSE, False, nurse.version)
    # The nurse cannot, therefore, go on to run B's accounts.
    nurse_headers = bearer(client, nurse)
    assert client.get("/api/v1/users", headers=nurse_headers).status_code == 403


def test_a_refusal_and_a_read_show_no_other_clinic_of_the_user(
    client: TestClient, clinics: TwoClinics, services: Services
) -> None:
    """A's admin sees the nurse's clinics among A's only, and that there are others, not which."""
    nurse = _works_in_both(services, clinics)
    a_admin = bearer(client, clinics.a.users[Role.ADMIN])
    read = client.get(f"/api/v1/users/{nurse.id}", headers=a_admin)
    assert read.json()["clinic_ids"] == [clinics.a.clinic.id]
    assert read.json()["in_other_clinics"] is True
    _status, refusal = _change(
        client, a_admin, nurse, role="admin", clinic_ids=[clinics.a.clinic.id]
    )
    listed = client.get("/api/v1/users", params={"limit": 200}, headers=a_admin).text
    for body in (read.text, refusal, listed):
        assert clinics.b.clinic.id not in body
        assert clinics.b.clinic.name not in body


def test_an_admin_may_still_remove_their_own_clinic_from_a_user_of_two(
    client: TestClient, clinics: TwoClinics, services: Services
) -> None:
    """Membership of A is A's business: removed, and the nurse keeps working in B."""
    nurse = _works_in_both(services, clinics)
    a_admin = bearer(client, clinics.a.users[Role.ADMIN])
    status, text = _change(client, a_admin, nurse, clinic_ids=[])
    assert status == 200, text
    assert _reload(services, nurse.id).clinic_ids == {clinics.b.clinic.id}
    assert client.get(f"/api/v1/users/{nurse.id}", headers=a_admin).status_code == 404


def test_an_admin_of_every_clinic_of_the_user_changes_the_role(
    client: TestClient, clinics: TwoClinics, services: Services
) -> None:
    """The rule is 'an admin of all the user's clinics', not 'nobody'."""
    nurse = clinics.a.users[Role.NURSE]
    a_admin = bearer(client, clinics.a.users[Role.ADMIN])
    status, text = _change(
        client, a_admin, nurse, role="clinician", clinic_ids=[clinics.a.clinic.id]
    )
    assert status == 200, text
    assert _reload(services, nurse.id).role == Role.CLINICIAN


def test_an_admin_cannot_give_themselves_a_clinical_role_and_read_patients(
    client: TestClient, clinics: TwoClinics, services: Services
) -> None:
    """403 for their own role change; the admin still reads no patient; another admin may."""
    admin = clinics.a.users[Role.ADMIN]
    own = bearer(client, admin)
    status, _ = _change(client, own, admin, role="clinician", clinic_ids=[clinics.a.clinic.id])
    assert status == 403
    assert client.get("/api/v1/patients", headers=own).status_code == 403
    assert _change(client, own, admin, disabled=True, clinic_ids=[clinics.a.clinic.id])[0] == 403
    second = services.accounts.create_user(
        principal_for(admin), unique("admin"), PASSWORD, Role.ADMIN, [clinics.a.clinic.id]
    )
    other = bearer(client, second)
    assert (
        _change(client, other, admin, role="clinician", clinic_ids=[clinics.a.clinic.id])[0] == 200
    )


def test_a_username_taken_in_another_clinic_is_refused_as_one_taken_in_ones_own(
    client: TestClient, clinics: TwoClinics
) -> None:
    """The same 409 and the same words whatever clinic holds the name: no id, no clinic."""
    b_admin = bearer(client, clinics.b.users[Role.ADMIN])

    def create(username: str) -> tuple[int, dict[str, object]]:
        body = {"username": username, "password": PASSWORD, "role": "nurse",
                "clinic_ids": [clinics.b.clinic.id]}  # fmt: skip
        response = client.post("/api/v1/users", json=body, headers=b_admin)
        problem = response.json()
        problem.pop("instance", None)
        problem.pop("correlation_id", None)
        return response.status_code, problem

    elsewhere = create(clinics.a.users[Role.NURSE].username)
    own = create(clinics.b.users[Role.NURSE].username)
    assert elsewhere == own
    assert elsewhere[0] == 409
    shown = str(elsewhere[1])
    for secret in (clinics.a.clinic.id, clinics.a.clinic.name, clinics.a.users[Role.NURSE].id):
        assert secret not in shown
    assert "taken" not in shown


def test_the_admin_page_refuses_a_change_to_a_user_of_two_clinics(
    services: Services, clinics: TwoClinics
) -> None:
    """The page goes through the same gate: 403, and the list offers no form for that user."""
    nurse = _works_in_both(services, clinics)
    from tests.factories import ClinicStaff

    staff = ClinicStaff(clinics.a.clinic, clinics.a.users)
    with new_browser(services) as browser:
        csrf = sign_in(browser, staff, Role.ADMIN)
        page = browser.get("/admin/users").text
        assert f'action="/admin/users/{nurse.id}"' not in page
        refused = browser.post(f"/admin/users/{nurse.id}", data={
            "csrf": csrf, "version": str(nurse.version), "role": "admin"})  # fmt: skip
        assert refused.status_code == 403
        own = clinics.a.users[Role.ADMIN]
        refused = browser.post(f"/admin/users/{own.id}", data={
            "csrf": csrf, "version": str(own.version), "role": "clinician"})  # fmt: skip
        assert refused.status_code == 403
    assert _reload(services, nurse.id).role == Role.NURSE
    assert _reload(services, own.id).role == Role.ADMIN


def test_the_command_line_refuses_a_taken_username_with_the_same_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`admin create` goes through the same account checks: the generic refusal, with the
    exit code the error table gives a clash with stored state (73)."""
    monkeypatch.setenv("MESOSCREEN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MESOSCREEN_DATABASE_URL", raising=False)
    for name, value in (("TIME_COST", "1"), ("MEMORY_KIB", "8"), ("PARALLELISM", "1")):
        monkeypatch.setenv(f"MESOSCREEN_ARGON2_{name}", value)
    assert main(["clinic", "create", "Hue"]) == 0
    for expected in (exit_codes.OK, exit_codes.CONFLICT):
        monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
        code = main(
            ["admin", "create", "--username", "boss", "--clinic", "Hue", "--password-stdin"]
        )
        assert code == expected
    assert "username: not available; choose another" in capsys.readouterr().err
