"""English and Vietnamese: the switch, per user in a shared browser, dates and numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.i18n import (
    catalogues,
    format_date,
    format_moment,
    format_number,
    preferred_language,
)
from mesoscreen.knowledge import default_knowledge_base
from tests.factories import ClinicStaff, give_consent
from tests.intakes import intake
from tests.integration.web.conftest import TestClient, csrf_in, new_patient, screen, sign_in


def _switch(client: TestClient, language: str, back: str = "/patients") -> None:
    """Choose the language with the header's form, as a browser without scripts does."""
    page = client.get(back).text
    token = csrf_in(page.split('action="/language"', 1)[1])
    response = client.post("/language", data={"language": language, "next": back,
                                               "csrf": token}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text
    assert response.headers["location"] == back


def test_the_language_switch_translates_pages_banner_and_dates(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Vietnamese words, the Vietnamese banner, dd/mm/yyyy dates and the html lang."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    _switch(browser, "vi")
    answers = intake("female", breastfeeding="no", recently_weaned="yes", weaned_on="2026-10-15")
    page = browser.get(f"/screenings/{screen(browser, csrf, patient, answers)}").text
    assert '<html lang="vi">' in page
    assert "HOÃN" in page
    assert "15/01/2027" in page
    assert "Bệnh nhân" in browser.get("/patients").text


def test_the_language_form_needs_the_browsers_form_token(browser: TestClient) -> None:
    """A cross-site post cannot switch the language."""
    browser.get("/signin")
    response = browser.post("/language", data={"language": "vi", "next": "/signin"})
    assert response.status_code == 403
    assert '<html lang="en">' in browser.get("/signin").text


def test_each_user_keeps_their_own_language_on_a_shared_browser(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """A nurse who chose Vietnamese gets it back after a clinician used English in between."""
    csrf = sign_in(browser, staff, Role.NURSE)
    _switch(browser, "vi")
    browser.post("/signout", data={"csrf": csrf})
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    _switch(browser, "en")
    assert '<html lang="en">' in browser.get("/patients").text
    browser.post("/signout", data={"csrf": csrf})
    sign_in(browser, staff, Role.NURSE)
    assert '<html lang="vi">' in browser.get("/patients").text


def test_the_browsers_accept_language_chooses_until_a_user_does(browser: TestClient) -> None:
    """A Vietnamese browser gets the sign-in page in Vietnamese."""
    page = browser.get("/signin", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})
    assert '<html lang="vi">' in page.text
    assert "Đăng nhập" in page.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("vi-VN,vi;q=0.9,en;q=0.8", Language.VI),
        ("en-GB,vi;q=0.5", Language.EN),
        ("fr,vi;q=0.3", Language.VI),
        ("vi;q=0,en", Language.EN),
        ("fr", None),
        ("", None),
        ("vi;q=abc, en;q=0.1", Language.EN),
    ],
)
def test_accept_language_is_read_by_quality(header: str, expected: Language | None) -> None:
    """The highest-quality language we speak wins; q=0 means not wanted."""
    assert preferred_language(header) is expected


def test_dates_times_and_numbers_are_written_as_each_locale_writes_them() -> None:
    """15 Jan 2027 / 15/01/2027; 1,234.5 / 1.234,5; times in the clinic's zone."""
    assert format_date(date(2027, 1, 15), Language.EN) == "15 Jan 2027"
    assert format_date(date(2027, 1, 5), Language.EN) == "5 Jan 2027"
    assert format_date("2027-01-15", Language.VI) == "15/01/2027"
    assert format_number(1234.5, Language.EN) == "1,234.5"
    assert format_number(1234.5, Language.VI) == "1.234,5"
    assert format_number(0.55, Language.VI) == "0,55"
    assert format_number(12, Language.EN, 0) == "12"
    moment = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    saigon = ZoneInfo("Asia/Ho_Chi_Minh")
    assert format_moment(moment, Language.VI, saigon) == "25/11/2026 06:30"
    assert format_moment(moment, Language.EN, ZoneInfo("UTC")) == "24 Nov 2026 23:30"


def test_both_catalogues_have_the_same_keys_and_name_every_section() -> None:
    """Both catalogues carry the same ids; every knowledge-base section has a heading."""
    english, vietnamese = catalogues().values()
    assert english.keys() == vietnamese.keys()
    sections = {q.section for q in default_knowledge_base().questions}
    for words in (english, vietnamese):
        assert {f"sections.{section}" for section in sections} <= set(words)


def test_times_typed_in_are_read_in_the_browsers_time_zone(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """08:30 in Ho Chi Minh City is stored as 01:30 UTC and shown back as 08:30."""
    csrf = sign_in(browser, staff, Role.NURSE)
    patient = new_patient(browser, csrf)
    give_consent(services.patients, services.screenings, services.consents, staff, patient)
    browser.cookies.set("mesoscreen_tz", "Asia/Ho_Chi_Minh")
    response = browser.post(f"/patients/{patient}/sessions/new", follow_redirects=False, data={
        "csrf": csrf, "performed_at": "2026-11-25T08:30", "product": "Biotin", "lot_number": "L1",
        "expiry": "2027-06-30", "points": "10", "volume_per_point_ml": "0.05",
        "depth_mm": "1.5"})  # fmt: skip
    assert response.status_code == 303, response.text
    principal = staff.principal(Role.NURSE)
    (stored,) = services.treatment_sessions.list_for_patient(principal, patient).items
    assert stored.performed_at == datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
    assert "25 Nov 2026 08:30" in browser.get(f"/patients/{patient}").text
