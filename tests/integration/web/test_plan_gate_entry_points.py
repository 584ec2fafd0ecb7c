"""The same unsafe plan refused through every entry point: API create, API edit, API sign, the
plan page and the command line; a malformed stored plan breaks no page and is reported.

The unsafe plan is the one the review stored and signed through the API: minoxidil for a
patient whose screening excludes it, 8-9.5 mm deep, over the whole scalp at 0.5 cm.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.audit import AuditOutcome
from mesoscreen.domain.planner.request import request_from_json
from mesoscreen.domain.records import ActionResult, PlanRecord
from mesoscreen.entrypoints.cli import main
from mesoscreen.services.patients import PatientDetails
from mesoscreen.services.required_actions import ActionReport
from tests.factories import PASSWORD, ClinicStaff, give_consent
from tests.intakes import CLEAR_MALE
from tests.integration.web.conftest import TestClient, sign_in

HEART = dict(CLEAR_MALE) | {"cardiovascular_disease": "yes", "cardiovascular_stable": "yes"}
CLEARANCES = ("cardiologist_clearance", "dermatologist_supervision")
UNSAFE = {
    "stage": "norwood-7", "spacing_cm": 0.5, "product": "minoxidil_0_5",
    "first_session": "2026-12-01", "depth_mm": [8.0, 9.5], "volume_per_point_ml": 0.1,
}  # fmt: skip
SAFE = {"stage": "norwood-1", "product": "dutasteride_0_01", "first_session": "2026-12-01"}


def _bearer(client: TestClient, staff: ClinicStaff) -> dict[str, str]:
    user = staff.users[Role.CLINICIAN]
    response = client.post("/api/v1/auth/token",
                           json={"username": user.username, "password": PASSWORD})  # fmt: skip
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _cleared_heart_patient(services: Services, staff: ClinicStaff) -> tuple[str, str]:
    """A patient with stable heart disease, screened, signed, both clearances recorded:
    treatment permitted, minoxidil excluded. (patient id, screening id)"""
    clinician = staff.principal(Role.CLINICIAN)
    patient = services.patients.register(
        clinician, staff.clinic.id, PatientDetails(family_name="Pham", given_name="Duc")
    )
    screening = services.screenings.screen_intake(clinician, patient.id, HEART)
    services.screenings.sign(clinician, screening.id, screening.version)
    for action in CLEARANCES:
        report = ActionReport(action, ActionResult.CLEARED, services.clock.today(), "Dr B",
                              services.clock.now())  # fmt: skip
        services.actions.record(clinician, screening.id, report)
    return patient.id, screening.id


def _plans(services: Services, staff: ClinicStaff, patient: str) -> list[PlanRecord]:
    return list(services.plans.list_for_patient(staff.principal(Role.CLINICIAN), patient).items)


def _last_refusal(services: Services, staff: ClinicStaff, event: str) -> dict[str, str]:
    actor = staff.users[Role.CLINICIAN].id
    refusals = [s.entry for s in services.audit.all_entries()
                if s.entry.actor_id == actor and s.entry.event_type == event
                and s.entry.outcome == AuditOutcome.FAILURE]  # fmt: skip
    assert refusals, f"no refused {event} audited"
    return dict(refusals[-1].detail)


def test_api_create_refuses_the_unsafe_plan_naming_the_field_and_stores_nothing(
    browser: TestClient, services: Services, staff: ClinicStaff
) -> None:
    """422 with the refused field; no plan row; the refusal is in the audit trail."""
    headers = _bearer(browser, staff)
    patient, screening = _cleared_heart_patient(services, staff)
    url = f"/api/v1/screenings/{screening}/plans"
    refused = browser.post(url, json=UNSAFE, headers=headers)
    assert refused.status_code == 422
    problem = refused.json()
    assert (problem["code"], problem["field"]) == ("invalid_plan", "product")
    assert "minoxidil (excluded by finding 'cardiovascular_managed'" in problem["detail"]
    assert problem["problems"] == [{
        "code": "ingredient_excluded", "field": "product",
        "params": {"product": "minoxidil_0_5", "ingredient": "minoxidil",
                   "finding": "cardiovascular_managed"},
    }]  # fmt: skip
    assert _last_refusal(services, staff, "plan.create") == {"error": "invalid_plan"}
    caps = browser.post(url, json=UNSAFE | {"product": "dutasteride_0_01"}, headers=headers)
    assert caps.status_code == 422
    assert caps.json()["field"] == "depth_mm"
    for part in ("'depth_mm': 8-9.5 mm is outside the permitted 1.5-2 mm",
                 "'total_volume_ml':", "'total_dose':"):  # fmt: skip
        assert part in caps.json()["detail"]
    document = browser.post(url, json={"document": {"points": []}}, headers=headers)
    assert document.status_code == 422
    assert ["body", "document"] in [e["loc"] for e in document.json()["errors"]]
    assert _plans(services, staff, patient) == []


def test_api_edit_and_sign_refuse_and_leave_the_draft_as_it_was(
    browser: TestClient, services: Services, staff: ClinicStaff
) -> None:
    """PUT with the unsafe request: 422, same version. A draft altered in storage: sign 422."""
    headers = _bearer(browser, staff)
    patient, screening = _cleared_heart_patient(services, staff)
    created = browser.post(f"/api/v1/screenings/{screening}/plans", json=SAFE, headers=headers)
    assert created.status_code == 201, created.text
    plan = created.json()
    edit = browser.put(f"/api/v1/plans/{plan['id']}", json=UNSAFE,
                       headers=headers | {"If-Match": 'W/"1"'})  # fmt: skip
    assert (edit.status_code, edit.json()["field"]) == (422, "product")
    assert _last_refusal(services, staff, "plan.update") == {"error": "invalid_plan"}
    (stored,) = _plans(services, staff, patient)
    assert (stored.version, stored.document) == (1, plan["document"])
    unsafe = dict(stored.document) | {"total_volume_ml": 382.0, "depth_mm": [8.0, 9.5]}
    with services.plans.uow() as uow:  # a change made behind the service's back
        uow.plans.save(replace(stored, document=unsafe, version=2), 1)
        uow.commit()
    sign = browser.post(f"/api/v1/plans/{plan['id']}/sign",
                        headers=headers | {"If-Match": 'W/"2"'})  # fmt: skip
    assert sign.status_code == 422
    assert sign.json()["field"] == "total_volume_ml"
    assert _last_refusal(services, staff, "plan.sign") == {"error": "invalid_plan"}
    (still,) = _plans(services, staff, patient)
    assert (still.status, still.signed_at) == ("draft", None)


def test_the_plan_page_refuses_the_unsafe_plan_and_saves_nothing(
    browser: TestClient, services: Services, staff: ClinicStaff
) -> None:
    """Preview and save both go through the gate: 400 with the reason, no plan."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient, screening = _cleared_heart_patient(services, staff)
    form = {"csrf": csrf, "stage": "norwood-7", "spacing_cm": "0.5", "product": "minoxidil_0_5",
            "start": "2026-12-01", "depth_min_mm": "8", "depth_max_mm": "9.5"}  # fmt: skip
    for extra in ({}, {"save": "1"}):
        page = browser.post(f"/screenings/{screening}/plan", data=form | extra)
        assert page.status_code == 400
        assert "which this patient&#39;s screening rules out" in page.text
        assert "excluded by finding" not in page.text  # words, not the log's message
    form |= {"product": "dutasteride_0_01", "save": "1"}
    dutasteride = browser.post(f"/screenings/{screening}/plan", data=form)
    assert dutasteride.status_code == 400
    assert "Depth: " in dutasteride.text
    assert "may be injected only from 1.5 to 2 mm deep" in dutasteride.text
    assert _plans(services, staff, patient) == []


def test_the_command_line_refuses_the_unsafe_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From the same intake, or from its decision JSON: exit 2 and one line naming why."""
    intake = tmp_path / "heart.json"
    intake.write_text(json.dumps(HEART), encoding="utf-8")
    args = ["plan", "--stage", "norwood-7", "--spacing-cm", "0.5", "--ingredient",
            "minoxidil_0_5", "--depth-mm", "8-9.5", "--volume-per-point-ml", "0.1",
            "--start", "2026-12-01", "--actions-done", ",".join(CLEARANCES)]  # fmt: skip
    assert main([*args, "--screening", str(intake)]) == 2
    assert "minoxidil (excluded by finding 'cardiovascular_managed'" in capsys.readouterr().err
    assert main(["screen", str(intake), "--json"]) == 0
    decision = tmp_path / "decision.json"
    decision.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main([*args, "--screening", str(decision)]) == 2
    assert "excluded by finding" in capsys.readouterr().err
    assert main([*args, "--ingredient", "dutasteride_0_01", "--screening", str(decision)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'depth_mm': 8-9.5 mm is outside the permitted 1.5-2 mm" in err


def test_a_malformed_stored_plan_breaks_no_page_and_the_check_reports_it(
    browser: TestClient, services: Services, staff: ClinicStaff, database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The row the review stored ({"points": []}): the patient page, the plan page and the
    session form answer 200 with a panel; `check-plans` names it and exits 1."""
    clinician = staff.principal(Role.CLINICIAN)
    patient, screening = _cleared_heart_patient(services, staff)
    give_consent(services.patients, services.screenings, services.consents, staff, patient)
    safe = request_from_json(SAFE | {"spacing_cm": 1.0})
    good = services.plans.create(clinician, screening, safe)
    bad = replace(good, id=f"{good.id[:-4]}bad0", document={"points": []}, status="signed")
    with services.plans.uow() as uow:  # stored before the gate existed
        uow.plans.add(bad)
        uow.commit()
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    assert csrf
    timeline = browser.get(f"/patients/{patient}")
    assert timeline.status_code == 200
    assert "plan that cannot be read" in timeline.text
    plan_page = browser.get(f"/plans/{bad.id}")
    assert plan_page.status_code == 200
    assert 'id="plan-gate-refusal"' in plan_page.text
    assert "Record a treatment session" not in plan_page.text
    form = browser.get(f"/patients/{patient}/sessions/new?plan={bad.id}")
    assert form.status_code == 200
    assert "plan that cannot be read" in form.text
    odd = replace(
        bad,
        id=f"{good.id[:-4]}bad1",
        document={"sessions": [{"date": "soon"}]},
        created_at=good.created_at + timedelta(minutes=1),
    )  # the patient's latest
    with services.plans.uow() as uow:
        uow.plans.add(odd)
        uow.commit()
    assert browser.get("/worklist").status_code == 200
    assert browser.get(f"/patients/{patient}").status_code == 200
    assert main(["check-plans", "--database", database_url]) == 1
    out = capsys.readouterr().out
    assert f"{bad.id}  signed  FAILS" in out
    assert good.id not in out
    (kept,) = [p for p in _plans(services, staff, patient) if p.id == bad.id]
    assert kept.document == {"points": []}, "reported, never changed or deleted"


def test_the_plan_editor_offers_an_excluded_product_disabled_with_the_reason(
    browser: TestClient, services: Services, staff: ClinicStaff
) -> None:
    """Minoxidil, excluded for a heart patient, is listed but cannot be chosen, and says why."""
    sign_in(browser, staff, Role.CLINICIAN)
    _, screening = _cleared_heart_patient(services, staff)
    page = browser.get(f"/screenings/{screening}/plan")
    assert page.status_code == 200
    assert "<h1>Treatment plan: " in page.text
    assert re.search(r'<option value="minoxidil_0_5" disabled>[^<]*not for this patient', page.text)
    assert re.search(r'<option value="dutasteride_0_01" (selected)?>', page.text)
    exclusions = page.text.split('id="product-exclusions"')[1].split("</ul>")[0]
    assert "which this patient&#39;s screening rules out" in exclusions
    assert "dutasteride" not in exclusions.lower()


def test_the_banner_stops_asking_for_clearance_once_both_are_recorded(
    browser: TestClient, services: Services, staff: ClinicStaff
) -> None:
    """'Needed before treatment' until the second clearance is recorded as cleared; then the
    banner says it is recorded (still in the specialist-clearance colour)."""
    sign_in(browser, staff, Role.CLINICIAN)
    clinician = staff.principal(Role.CLINICIAN)
    patient = services.patients.register(
        clinician, staff.clinic.id, PatientDetails(family_name="Lam", given_name="Tu")
    )
    screening = services.screenings.screen_intake(clinician, patient.id, HEART)
    services.screenings.sign(clinician, screening.id, screening.version)

    def banner() -> str:
        page = browser.get(f"/screenings/{screening.id}")
        assert 'class="banner banner-specialist_clearance"' in page.text
        return page.text.split('class="outcome-words">')[1].split("</span>")[0]

    assert banner() == "SPECIALIST CLEARANCE needed before treatment"
    first, *others = CLEARANCES
    for action, result in [(first, ActionResult.CLEARED),
                           *((a, ActionResult.NOT_CLEARED) for a in others)]:  # fmt: skip
        services.actions.record(clinician, screening.id, ActionReport(
            action, result, services.clock.today(), "Dr B", services.clock.now()))  # fmt: skip
    assert banner() == "SPECIALIST CLEARANCE needed before treatment"  # one is refused
    services.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    for action in others:  # a later record replaces the refusal
        services.actions.record(clinician, screening.id, ActionReport(
            action, ActionResult.CLEARED, services.clock.today(), "Dr C",
            services.clock.now()))  # fmt: skip
    assert banner() == "SPECIALIST CLEARANCE RECORDED: treatment may be planned"
