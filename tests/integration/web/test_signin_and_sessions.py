"""Signing in and out through the pages: cookies, CSRF on every form, redirects, roles."""

from __future__ import annotations

from http.cookies import SimpleCookie

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import PASSWORD, ClinicStaff
from tests.integration.web.conftest import TestClient, csrf_in, new_patient, sign_in


def _set_cookies(response: object) -> dict[str, SimpleCookie]:
    jar: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):  # type: ignore[attr-defined]
        cookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            jar[name] = cookie
    return jar


def test_pages_need_a_session_and_come_back_after_sign_in(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Without a session a page sends the browser to sign in, then back to the page."""
    response = browser.get("/patients?q=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/patients"
    form = browser.get(response.headers["location"]).text
    assert 'name="next" value="/patients"' in form
    signed_in = browser.post("/signin", follow_redirects=False, data={
        "username": staff.users[Role.NURSE].username, "password": PASSWORD,
        "csrf": csrf_in(form), "next": "/patients"})  # fmt: skip
    assert signed_in.headers["location"] == "/patients"


def test_sign_in_never_redirects_to_another_site(browser: TestClient, staff: ClinicStaff) -> None:
    """A crafted next= pointing elsewhere lands on the user's start page instead."""
    token = csrf_in(browser.get("/signin").text)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        browser.cookies.clear()
        token = csrf_in(browser.get("/signin").text)
        response = browser.post("/signin", follow_redirects=False, data={
            "username": staff.users[Role.NURSE].username, "password": PASSWORD,
            "csrf": token, "next": target})  # fmt: skip
        assert response.headers["location"] == "/today", target


def test_session_cookies_are_httponly_samesite_and_secure_off_this_machine(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Over TLS the session and CSRF cookies are __Host- prefixed, Secure, HttpOnly, Strict."""
    token = csrf_in(browser.get("/signin").text)
    response = browser.post("/signin", follow_redirects=False, data={
        "username": staff.users[Role.CLINICIAN].username, "password": PASSWORD,
        "csrf": token})  # fmt: skip
    jar = _set_cookies(response)
    for name in ("__Host-mesoscreen_session", "__Host-mesoscreen_csrf"):
        morsel = jar[name][name]
        assert morsel["httponly"], name
        assert morsel["secure"], name
        assert morsel["samesite"].lower() == "strict"
        assert morsel["path"] == "/"


def test_cookies_are_secure_for_a_plain_http_browser_on_another_machine(
    services: Services,
) -> None:
    """Plain HTTP from the clinic's network still gets Secure cookies (so it must use TLS)."""
    with TestClient(services_app(services), client=("192.168.1.20", 5000)) as remote:
        page = remote.get("/signin")
        morsel = _set_cookies(page)["__Host-mesoscreen_form"]["__Host-mesoscreen_form"]
        assert morsel["secure"]
    with TestClient(services_app(services), client=("127.0.0.1", 5000)) as local:
        assert "mesoscreen_form" in _set_cookies(local.get("/signin"))


def services_app(services: Services) -> object:
    from mesoscreen.entrypoints.api import create_app

    return create_app(services.settings, services=services)


def test_a_sign_in_post_without_the_browsers_form_token_is_refused(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Login CSRF: a sign-in posted from another page (no token, or from another origin) fails."""
    browser.get("/signin")
    credentials = {"username": staff.users[Role.NURSE].username, "password": PASSWORD}
    assert browser.post("/signin", data=credentials).status_code == 403
    token = csrf_in(browser.get("/signin").text)
    foreign = browser.post("/signin", data=credentials | {"csrf": token},
                           headers={"Origin": "https://evil.example"})  # fmt: skip
    assert foreign.status_code == 403
    assert "__Host-mesoscreen_session" not in browser.cookies


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """401 with one message for a wrong password and for an unknown user."""
    token = csrf_in(browser.get("/signin").text)
    wrong = browser.post("/signin", data={"username": staff.users[Role.NURSE].username,
                                          "password": "wrong", "csrf": token})  # fmt: skip
    unknown = browser.post("/signin", data={"username": "nobody", "password": "wrong",
                                            "csrf": token})  # fmt: skip
    assert wrong.status_code == unknown.status_code == 401
    assert "Username or password not accepted." in wrong.text
    assert "Username or password not accepted." in unknown.text


def test_a_form_post_without_the_sessions_csrf_token_changes_nothing(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """A forged token, a missing one and a post from another origin are all 403."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = {"family_name": "Forged", "given_name": "Y"}
    assert browser.post("/patients/new", data=patient | {"csrf": "forged"}).status_code == 403
    assert browser.post("/patients/new", data=patient).status_code == 403
    foreign = browser.post("/patients/new", data=patient | {"csrf": csrf},
                           headers={"Origin": "https://evil.example"})  # fmt: skip
    assert foreign.status_code == 403
    assert "Patients found: 0<" in browser.get("/patients?q=Forged").text


def test_sign_out_ends_the_session_on_the_server(browser: TestClient, staff: ClinicStaff) -> None:
    """After sign-out the old session cookie no longer opens a page."""
    csrf = sign_in(browser, staff, Role.NURSE)
    old_session = browser.cookies["__Host-mesoscreen_session"]
    assert browser.post("/signout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    browser.cookies.set("__Host-mesoscreen_session", old_session)
    assert browser.get("/patients", follow_redirects=False).status_code == 303


def test_an_idle_session_expires(browser: TestClient, staff: ClinicStaff, clock: object) -> None:
    """Fifteen minutes without use and the next page asks to sign in again."""
    from datetime import timedelta

    sign_in(browser, staff, Role.NURSE)
    clock.advance(timedelta(minutes=15, seconds=1))  # type: ignore[attr-defined]
    assert browser.get("/patients", follow_redirects=False).status_code == 303


def test_reception_registers_and_finds_patients_but_is_refused_clinical_pages(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The front desk's 403 covers the intake, results, plans, sessions and events."""
    from tests.intakes import intake
    from tests.integration.web.conftest import new_browser, screen

    with new_browser(services) as clinician:
        csrf = sign_in(clinician, staff, Role.CLINICIAN)
        patient = new_patient(clinician, csrf, "Tran", "male")
        screening = screen(clinician, csrf, patient, intake("male"))
    desk = sign_in(browser, staff, Role.RECEPTION)
    assert "Tran" in browser.get("/patients?q=Tran").text
    patient_page = browser.get(f"/patients/{patient}")
    assert patient_page.status_code == 200
    assert "Screening" not in patient_page.text
    clinical = (f"/patients/{patient}/intake", f"/screenings/{screening}",
                f"/screenings/{screening}/handout", f"/screenings/{screening}/plan",
                f"/patients/{patient}/sessions/new",
                f"/patients/{patient}/adverse-events/new")  # fmt: skip
    for url in clinical:
        response = browser.get(url)
        assert response.status_code == 403, url
        assert "Your role does not allow this page." in response.text
    posted = browser.post(f"/patients/{patient}/intake", data={"csrf": desk, **intake("male")})
    assert posted.status_code == 403
    assert browser.get("/admin/users").status_code == 403
