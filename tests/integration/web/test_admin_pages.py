"""Admin pages: add a user, change a role, disable (which ends sessions), the audit trail."""

from __future__ import annotations

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import PASSWORD, ClinicStaff
from tests.integration.web.conftest import TestClient, new_browser, sign_in


def test_an_admin_starts_on_the_users_and_sees_no_patient_links(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Admins hold no patient permission: the menu offers users and the audit trail."""
    sign_in(browser, staff, Role.ADMIN)
    page = browser.get("/admin/users").text
    assert staff.users[Role.NURSE].username in page
    assert 'href="/patients/new"' not in page
    assert browser.get("/patients").status_code == 403


def test_an_admin_is_refused_the_new_patient_form_itself_not_only_its_save(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """403 at GET with the role's words: no form to fill in that could never be saved."""
    sign_in(browser, staff, Role.ADMIN)
    form = browser.get("/patients/new")
    assert form.status_code == 403
    assert 'name="family_name"' not in form.text
    assert "Your role does not allow this page." in form.text
    for page in ("/admin/users", "/admin/audit", "/today"):
        assert 'href="/patients/new"' not in browser.get(page).text, page


def test_reception_still_opens_the_new_patient_form(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """The front desk registers patients: the form and its links are there."""
    sign_in(browser, staff, Role.RECEPTION)
    assert browser.get("/patients/new").status_code == 200
    assert 'href="/patients/new"' in browser.get("/patients").text


def test_an_admin_adds_a_user_who_can_then_sign_in(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The new nurse signs in; a weak password is refused with the reason and not echoed."""
    csrf = sign_in(browser, staff, Role.ADMIN)
    weak = browser.post("/admin/users", data={"csrf": csrf, "username": "nurse-new",
                        "password": "short", "role": "nurse",
                        f"clinic_{staff.clinic.id}": "1"})  # fmt: skip
    assert weak.status_code == 400
    assert 'value="short"' not in weak.text
    assert "Password: at least 12 characters." in weak.text
    added = browser.post("/admin/users", follow_redirects=False, data={
        "csrf": csrf, "username": "nurse-new", "password": PASSWORD, "role": "nurse",
        f"clinic_{staff.clinic.id}": "1"})  # fmt: skip
    assert added.status_code == 303, added.text
    with new_browser(services) as tablet:
        from tests.integration.web.conftest import csrf_in

        token = csrf_in(tablet.get("/signin").text)
        signed_in = tablet.post("/signin", follow_redirects=False, data={
            "username": "nurse-new", "password": PASSWORD, "csrf": token})  # fmt: skip
        assert signed_in.status_code == 303


def test_disabling_a_user_ends_their_open_session_at_once(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The nurse's next page after the admin's change asks to sign in."""
    with new_browser(services) as nurse:
        sign_in(nurse, staff, Role.NURSE)
        assert nurse.get("/patients").status_code == 200
        csrf = sign_in(browser, staff, Role.ADMIN)
        user = staff.users[Role.NURSE]
        changed = browser.post(f"/admin/users/{user.id}", follow_redirects=False, data={
            "csrf": csrf, "version": str(user.version), "role": "nurse",
            "disabled": "1"})  # fmt: skip
        assert changed.status_code == 303, changed.text
        assert nurse.get("/patients", follow_redirects=False).status_code == 303
    stale = browser.post(f"/admin/users/{user.id}", data={
        "csrf": csrf, "version": str(user.version), "role": "clinician"})  # fmt: skip
    assert stale.status_code == 409
    assert "This page is out of date; reload it and try again." in stale.text
    me = staff.users[Role.ADMIN]
    own = browser.post(f"/admin/users/{me.id}", data={
        "csrf": csrf, "version": str(me.version), "role": "nurse"})  # fmt: skip
    assert own.status_code == 403
    assert "Role: an administrator cannot change their own role" in own.text


def test_the_audit_page_shows_the_chain_state_and_page_reads(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """The admin sees entries and an intact chain; the search words are never in the trail."""
    with new_browser(browser.app.state.services) as nurse:  # type: ignore[attr-defined]
        sign_in(nurse, staff, Role.NURSE)
        nurse.get("/patients?q=someone")
    sign_in(browser, staff, Role.ADMIN)
    audit = browser.get("/admin/audit?days=1").text
    assert "The audit chain is intact." in audit
    # Newest first: the nurse's search (just now) is on the first page whatever else is stored.
    assert audit.count("<tr data-event=") >= 2
    assert '<tr data-event="patient.search">' in audit
    assert "Patient · listed" in audit
    assert "someone" not in audit


def test_a_clinician_is_refused_the_admin_pages(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """403 on the users and the audit trail, and on a post to change a user, whose role and
    version stay as they were."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    assert browser.get("/admin/users").status_code == 403
    assert browser.get("/admin/audit").status_code == 403
    user = staff.users[Role.NURSE]
    refused = browser.post(f"/admin/users/{user.id}", data={
        "csrf": csrf, "version": "1", "role": "admin"})  # fmt: skip
    assert refused.status_code == 403
    stored = services.accounts.get_user(staff.principal(Role.ADMIN), user.id)
    assert (stored.role, stored.version) == (user.role, user.version)
