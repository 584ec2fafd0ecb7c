"""Plan with the injection map, sign it, record a session from it, report an adverse event,
and see them all on the patient's timeline."""

from __future__ import annotations

import html

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.knowledge import default_knowledge_base
from tests.factories import ClinicStaff, give_consent
from tests.intakes import intake
from tests.integration.web.conftest import TestClient, new_patient, screen, sign_in


def _signed_eligible_screening(client: TestClient, csrf: str, patient: str) -> str:
    screening = screen(client, csrf, patient, intake("male"))
    page = client.get(f"/screenings/{screening}").text
    version = page.split('name="version" value="')[1].split('"')[0]
    client.post(f"/screenings/{screening}/sign", data={"csrf": csrf, "version": version})
    return screening


def _plan_form(csrf: str, **extra: str) -> dict[str, str]:
    return {"csrf": csrf, "stage": "norwood-3", "spacing_cm": "1.0", "product": "biotin",
            "start": "2026-12-01"} | extra  # fmt: skip


def test_the_plan_editor_previews_the_map_and_saves_a_plan_that_can_be_signed(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Points, area, volume, dates and the SVG map; saved, then signed by the clinician."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Le", "male")
    screening = _signed_eligible_screening(browser, csrf, patient)
    products = browser.get(f"/screenings/{screening}/plan").text
    product = products.split('name="product">')[1].split('value="')[1].split('"')[0]
    preview = browser.post(f"/screenings/{screening}/plan", data=_plan_form(csrf, product=product))
    assert preview.status_code == 200, preview.text
    assert "<svg" in preview.text
    points = int(preview.text.split('id="point-count">')[1].split("<")[0].replace(",", ""))
    assert points > 20
    assert "1 Dec 2026" in preview.text
    dose = preview.text.split('id="total-dose">')[1].split("</dd>")[0]
    assert " mg · " in dose, "the dose of active substance beside its cap"
    assert 'id="figure-sources"' in preview.text
    assert services.plans.list_for_patient(staff.principal(Role.CLINICIAN), patient).total == 0
    saved = browser.post(f"/screenings/{screening}/plan", follow_redirects=False,
                         data=_plan_form(csrf, product=product, save="1"))  # fmt: skip
    assert saved.status_code == 303, saved.text
    plan_page = browser.get(saved.headers["location"]).text
    assert "<svg" in plan_page, "the saved plan's map is drawn again from its request"
    assert f'id="point-count">{points}<' in plan_page
    plan_id = saved.headers["location"].rsplit("/", 1)[1]
    version = plan_page.split('name="version" value="')[1].split('"')[0]
    browser.post(f"/plans/{plan_id}/sign", data={"csrf": csrf, "version": version})
    (plan,) = services.plans.list_for_patient(staff.principal(Role.CLINICIAN), patient).items
    assert plan.status == "signed"
    assert plan.document["point_count"] == points


def test_an_unsigned_screening_cannot_be_planned(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Saving refuses with 409 until a clinician signs the screening."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Le", "male")
    screening = screen(browser, csrf, patient, intake("male"))
    page = browser.get(f"/screenings/{screening}/plan").text
    product = page.split('name="product">')[1].split('value="')[1].split('"')[0]
    saved = browser.post(f"/screenings/{screening}/plan",
                         data=_plan_form(csrf, product=product, save="1"))  # fmt: skip
    assert saved.status_code == 409
    assert services.plans.list_for_patient(staff.principal(Role.CLINICIAN), patient).total == 0


def test_a_session_is_recorded_from_a_signed_plan_and_shown_on_the_timeline(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The session form takes the plan's product, points and volume; an expired lot is refused."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Le", "male")
    screening = _signed_eligible_screening(browser, csrf, patient)
    page = browser.get(f"/screenings/{screening}/plan").text
    product = page.split('name="product">')[1].split('value="')[1].split('"')[0]
    saved = browser.post(f"/screenings/{screening}/plan", follow_redirects=False,
                         data=_plan_form(csrf, product=product, save="1"))  # fmt: skip
    plan_id = saved.headers["location"].rsplit("/", 1)[1]
    version = browser.get(f"/plans/{plan_id}").text.split('name="version" value="')[1][:1]
    browser.post(f"/plans/{plan_id}/sign", data={"csrf": csrf, "version": version})
    browser.cookies.set("mesoscreen_tz", "UTC")
    give_consent(services.patients, services.screenings, services.consents, staff, patient)
    form = browser.get(f"/patients/{patient}/sessions/new?plan={plan_id}").text
    points = form.split('id="points" name="points"')[1].split('value="')[1].split('"')[0]
    assert int(points) > 20
    session = {"csrf": csrf, "plan_id": plan_id, "performed_at": "2026-11-25T08:30",
               "product": "Biotin", "lot_number": "LOT-42", "expiry": "2026-11-01",
               "points": points, "volume_per_point_ml": "0.05", "depth_mm": "1.5"}  # fmt: skip
    expired = browser.post(f"/patients/{patient}/sessions/new", data=session)
    assert expired.status_code == 400
    assert "expired" in expired.text
    recorded = browser.post(f"/patients/{patient}/sessions/new", follow_redirects=False,
                            data=session | {"expiry": "2027-06-30"})  # fmt: skip
    assert recorded.status_code == 303, recorded.text
    (stored,) = services.treatment_sessions.list_for_patient(
        staff.principal(Role.CLINICIAN), patient
    ).items
    assert stored.plan_id == plan_id
    timeline = browser.get(f"/patients/{patient}").text
    assert "LOT-42" in timeline
    # Newest first: the plan was saved at 09:00 UTC (the frozen clock), the session at 08:30.
    assert timeline.index('data-kind="plan"') < timeline.index('data-kind="session"')


def test_the_adverse_event_form_puts_the_catalogues_emergency_instruction_first(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The anaphylaxis text comes from the knowledge base, in the user's language, as an alert."""
    csrf = sign_in(browser, staff, Role.NURSE)
    patient = new_patient(browser, csrf)
    page = html.unescape(browser.get(f"/patients/{patient}/adverse-events/new").text)
    emergencies = [c for c in default_knowledge_base().complications if c.emergency]
    assert emergencies
    for complication in emergencies:
        assert complication.description.en in page
        assert page.index(complication.description.en) < page.index(
            '<form method="post" action="/patients/'
        )
    reported = browser.post(f"/patients/{patient}/adverse-events/new", follow_redirects=False,
                            data={"csrf": csrf, "complication_id": "bruising",
                                  "onset_at": "2026-11-25T09:00", "severity_grade": "1",
                                  "outcome": "recovering"})  # fmt: skip
    assert reported.status_code == 303, reported.text
    timeline = browser.get(f"/patients/{patient}").text
    assert 'data-kind="adverse_event"' in timeline
    assert "Recovering" in timeline
    (event,) = services.adverse_events.list_for_patient(staff.principal(Role.NURSE), patient).items
    assert event.complication_id == "bruising"


def test_an_adverse_event_with_a_bad_grade_or_outcome_is_refused(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """400 naming the field; nothing stored."""
    csrf = sign_in(browser, staff, Role.NURSE)
    patient = new_patient(browser, csrf)
    base = {"csrf": csrf, "complication_id": "bruising", "onset_at": "2026-11-25T09:00"}
    for bad in ({"severity_grade": "9", "outcome": "resolved"},
                {"severity_grade": "1", "outcome": "made-up"}):  # fmt: skip
        assert browser.post(f"/patients/{patient}/adverse-events/new",
                            data=base | bad).status_code == 400  # fmt: skip
    assert services.adverse_events.list_for_patient(staff.principal(Role.NURSE), patient).total == 0


def test_the_worklist_shows_a_deferral_ending_this_week_and_refuses_reception(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """Weaned 28 May 2026: the 6-month deferral ends 28 Nov, within a week of 25 Nov."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf, "Hoang")
    screen(browser, csrf, patient, intake("female", breastfeeding="no", recently_weaned="yes",
                                          weaned_on="2026-05-28"))  # fmt: skip
    page = browser.get("/worklist")
    assert page.status_code == 200
    upcoming = page.text.split('id="upcoming"', 1)[1]
    assert "Hoang" in upcoming
    assert "Screen again" in upcoming
    browser.cookies.clear()
    sign_in(browser, staff, Role.RECEPTION)
    assert browser.get("/worklist").status_code == 403
