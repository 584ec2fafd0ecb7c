"""The patient handout repeats the consent's antiandrogen warning (pregnancy, contraception,
no blood donation), word for word from the template in force, whenever dutasteride or
finasteride may still be used; not when they are ruled out without condition."""

from __future__ import annotations

from datetime import timedelta

from mesoscreen.domain.access import Role
from tests.factories import ClinicStaff
from tests.fakes import FrozenClock
from tests.intakes import intake
from tests.integration.web.conftest import TestClient, csrf_in, new_patient, screen, sign_in

WARNING_EN = "If your treatment includes dutasteride or finasteride"
WARNING_VI = "Nếu điều trị của bạn có dutasterid hoặc finasterid"


def _on_version_2(clock: FrozenClock) -> None:
    """Move to 7 December 2026, when consent template version 2 is in force."""
    clock.advance(timedelta(days=12))


def test_a_man_who_may_receive_dutasteride_is_told_of_contraception_and_blood_donation(
    browser: TestClient, staff: ClinicStaff, clock: FrozenClock
) -> None:
    """Eligible man: the warning section with its three paragraphs."""
    _on_version_2(clock)
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, sex="male")
    screening = screen(browser, csrf, patient, intake("male"))
    handout = browser.get(f"/screenings/{screening}/handout").text
    assert WARNING_EN in handout
    assert "Do not donate blood" in handout
    assert "for at least 6 months after the last session" in handout


def test_the_warning_follows_the_language_of_the_page(
    browser: TestClient, staff: ClinicStaff, clock: FrozenClock
) -> None:
    """In Vietnamese: the Vietnamese text of the same template."""
    _on_version_2(clock)
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, sex="male")
    screening = screen(browser, csrf, patient, intake("male"))
    page = browser.get("/patients").text
    token = csrf_in(page.split('action="/language"', 1)[1])
    browser.post("/language", data={"language": "vi", "next": "/patients", "csrf": token})
    handout = browser.get(f"/screenings/{screening}/handout").text
    assert WARNING_VI in handout
    assert "Không hiến máu" in handout


def test_no_warning_when_antiandrogens_are_ruled_out_without_condition(
    browser: TestClient, staff: ClinicStaff, clock: FrozenClock
) -> None:
    """A pregnant woman: both antiandrogens are excluded outright; the handout says why."""
    _on_version_2(clock)
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    screening = screen(browser, csrf, patient, intake("female", pregnant="yes"))
    handout = browser.get(f"/screenings/{screening}/handout").text
    assert WARNING_EN not in handout
    assert "at least 3 to 6 months after you stop breastfeeding" in handout


def test_a_woman_who_may_become_pregnant_gets_the_warning_and_the_test_first(
    browser: TestClient, staff: ClinicStaff, clock: FrozenClock
) -> None:
    """Antiandrogens wait for a negative pregnancy test and contraception: warned."""
    _on_version_2(clock)
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    screening = screen(browser, csrf, patient, intake("female"))
    handout = browser.get(f"/screenings/{screening}/handout").text
    assert WARNING_EN in handout
    assert "must not be used by a woman who is pregnant or may become pregnant" in handout
