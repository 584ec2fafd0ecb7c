"""Sign-in and sessions: frozen-clock timeouts, server-side logout, cookies, CSRF, throttling."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import PASSWORD, TwoClinics
from tests.fakes import FrozenClock
from tests.integration.api.conftest import bearer
from tests.integration.api.records import ok

IDLE = timedelta(minutes=15)
SECOND = timedelta(seconds=1)


def _whoami(client: TestClient, headers: dict[str, str]) -> int:
    return client.get("/api/v1/auth/session", headers=headers).status_code


def test_a_session_survives_just_under_the_idle_limit_and_dies_just_over(
    client: TestClient, clinics: TwoClinics, clock: FrozenClock
) -> None:
    """Idle 15 min − 1 s → 200; then idle 15 min + 1 s → 401."""
    headers = bearer(client, clinics.a.users[Role.NURSE])
    clock.advance(IDLE - SECOND)
    assert _whoami(client, headers) == 200
    clock.advance(IDLE + SECOND)
    assert _whoami(client, headers) == 401


def test_a_busy_session_still_ends_at_the_absolute_limit(
    client: TestClient, clinics: TwoClinics, clock: FrozenClock
) -> None:
    """Used every 10 minutes, a session lives 12 h − 1 s and is dead at 12 h + 1 s."""
    headers = bearer(client, clinics.a.users[Role.NURSE])
    for _ in range(71):
        clock.advance(timedelta(minutes=10))
        assert _whoami(client, headers) == 200
    clock.advance(timedelta(minutes=10) - SECOND)  # 12 h − 1 s after sign-in
    assert _whoami(client, headers) == 200
    clock.advance(2 * SECOND)
    assert _whoami(client, headers) == 401


def test_logout_ends_the_session_on_the_server(client: TestClient, clinics: TwoClinics) -> None:
    """Replaying a token after logout gives 401."""
    headers = bearer(client, clinics.a.users[Role.NURSE])
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert _whoami(client, headers) == 401


def test_disabling_a_user_ends_all_their_sessions(client: TestClient, clinics: TwoClinics) -> None:
    """Both of a nurse's tokens die when an admin disables the nurse."""
    nurse = clinics.a.users[Role.NURSE]
    first, second = bearer(client, nurse), bearer(client, nurse)
    assert first != second
    admin = bearer(client, clinics.a.users[Role.ADMIN])
    body = {"role": "nurse", "clinic_ids": [clinics.a.clinic.id], "disabled": True}
    ok(client.put(f"/api/v1/users/{nurse.id}", json=body, headers=admin | {"If-Match": 'W/"1"'}))
    assert _whoami(client, first) == 401
    assert _whoami(client, second) == 401
    again = client.post(
        "/api/v1/auth/token", json={"username": nurse.username, "password": PASSWORD}
    )
    assert again.status_code == 401


def test_a_changed_role_applies_to_the_next_request(
    client: TestClient, clinics: TwoClinics
) -> None:
    """Demoting a nurse to reception removes clinical reads at once."""
    nurse = clinics.a.users[Role.NURSE]
    headers = bearer(client, nurse)
    assert client.get("/api/v1/auth/session", headers=headers).json()["role"] == "nurse"
    admin = bearer(client, clinics.a.users[Role.ADMIN])
    body = {"role": "reception", "clinic_ids": [clinics.a.clinic.id], "disabled": False}
    ok(client.put(f"/api/v1/users/{nurse.id}", json=body, headers=admin | {"If-Match": 'W/"1"'}))
    assert client.get("/api/v1/auth/session", headers=headers).json()["role"] == "reception"


def test_the_session_cookie_is_httponly_samesite_and_secure_over_tls(
    services: Services, clinics: TwoClinics
) -> None:
    """Over HTTPS the cookie is __Host- prefixed, Secure, HttpOnly and SameSite=strict."""
    from mesoscreen.entrypoints.api import create_app

    with TestClient(
        create_app(services.settings, services=services), base_url="https://testserver"
    ) as tls:
        user = clinics.a.users[Role.RECEPTION]
        response = tls.post(
            "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
        )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-mesoscreen_session=")
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert attribute.lower() in cookie.lower()
    assert len(cookie.split(";")[0].split("=", 1)[1]) >= 43  # 256 random bits


def _cookie_after_sign_in(services: Services, clinics: TwoClinics, base_url: str,
                          client: tuple[str, int]) -> str:  # fmt: skip
    """The Set-Cookie of an API cookie sign-in from ``client`` to ``base_url``."""
    from mesoscreen.entrypoints.api import create_app

    app = create_app(services.settings, services=services)
    with TestClient(app, base_url=base_url, client=client) as browser:
        user = clinics.a.users[Role.RECEPTION]
        response = browser.post(
            "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
        )
    assert response.status_code == 200, response.text
    return str(response.headers["set-cookie"])


def test_an_api_cookie_sign_in_from_another_machine_over_plain_http_is_secure(
    services: Services, clinics: TwoClinics
) -> None:
    """The pages' rule: from another machine the cookie is __Host- and Secure even over plain
    HTTP (the browser will not send it back until the clinic serves TLS)."""
    for address in ("192.0.2.10", "10.1.2.3", "2001:db8::5"):
        cookie = _cookie_after_sign_in(services, clinics, "http://testserver", (address, 50000))
        assert cookie.startswith("__Host-mesoscreen_session="), (address, cookie)
        assert "secure" in cookie.lower(), (address, cookie)


def test_an_api_cookie_sign_in_on_this_machine_over_plain_http_is_not_secure(
    services: Services, clinics: TwoClinics
) -> None:
    """``http://127.0.0.1`` keeps working for a single-machine install, as on the pages."""
    for address in ("127.0.0.1", "::1", "localhost"):
        cookie = _cookie_after_sign_in(services, clinics, "http://testserver", (address, 50000))
        assert cookie.startswith("mesoscreen_session="), (address, cookie)
        assert "secure" not in cookie.lower(), (address, cookie)


def test_cookie_writes_need_the_csrf_token(services: Services, clinics: TwoClinics) -> None:
    """A write with only the session cookie is refused; with the CSRF header it succeeds."""
    from mesoscreen.entrypoints.api import create_app

    app = create_app(services.settings, services=services)
    with TestClient(app, base_url="https://testserver") as client:
        _cookie_writes_need_the_csrf_token(client, clinics)


def _cookie_writes_need_the_csrf_token(client: TestClient, clinics: TwoClinics) -> None:
    user = clinics.a.users[Role.RECEPTION]
    signed_in = ok(
        client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
    )
    body = {"clinic_id": clinics.a.clinic.id, "family_name": "Vo", "given_name": "Bao"}
    refused = client.post("/api/v1/patients", json=body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    accepted = client.post(
        "/api/v1/patients", json=body, headers={"X-CSRF-Token": signed_in["csrf_token"]}
    )
    assert accepted.status_code == 201
    assert client.get("/api/v1/auth/session").status_code == 200


def test_failed_sign_ins_are_slowed_then_locked(
    client: TestClient, clinics: TwoClinics, clock: FrozenClock
) -> None:
    """After 3 failures the next try waits (429, Retry-After); after 10 even the password fails."""
    user = clinics.a.users[Role.CLINICIAN]
    wrong = {"username": user.username, "password": "not the password at all"}
    for _ in range(3):
        assert client.post("/api/v1/auth/token", json=wrong).status_code == 401
    slowed = client.post("/api/v1/auth/token", json=wrong)
    assert slowed.status_code == 429
    assert slowed.headers["Retry-After"] == "2"
    for _ in range(7):
        clock.advance(timedelta(minutes=6))
        assert client.post("/api/v1/auth/token", json=wrong).status_code == 401
    clock.advance(timedelta(hours=1))
    right = {"username": user.username, "password": PASSWORD}
    locked = client.post("/api/v1/auth/token", json=right)
    assert locked.status_code == 429
    assert "locked" in locked.json()["detail"]
    admin = bearer(client, clinics.a.users[Role.ADMIN])
    ok(client.post(f"/api/v1/users/{user.id}/unlock", headers=admin))
    assert client.post("/api/v1/auth/token", json=right).status_code == 200


def test_unknown_usernames_are_throttled_like_known_ones(client: TestClient) -> None:
    """Guessing at a name that does not exist is slowed the same way."""
    body = {"username": "nobody-at-all", "password": "whatever password"}
    statuses = [client.post("/api/v1/auth/token", json=body).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_a_fresh_install_has_no_account(fresh_database_url: str) -> None:
    """No default login exists: a new database has zero users."""
    from mesoscreen.bootstrap import build_services
    from tests.factories import records_settings

    services = build_services(records_settings(fresh_database_url))
    try:
        with services.accounts.uow() as uow:
            assert uow.users.count() == 0
    finally:
        services.close()
