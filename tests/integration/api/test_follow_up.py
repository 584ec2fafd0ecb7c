"""The worklist and `mesoscreen reminders` on fixed dates: sessions, follow-ups, re-screening."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.errors import PermissionDeniedError
from mesoscreen.domain.planner.plan import PlanRequest
from mesoscreen.domain.records import EventOutcome
from mesoscreen.entrypoints.cli import main
from mesoscreen.services.adverse_events import EventDetails
from mesoscreen.services.patients import PatientDetails
from mesoscreen.services.treatment_sessions import SessionDetails
from tests.factories import TwoClinics, give_consent, principal_for, unique
from tests.fakes import FrozenClock
from tests.intakes import intake


def _kinds(items: list[object], family: str) -> list[tuple[str, str, bool]]:
    return [(i.kind, i.due_on.isoformat(), i.overdue) for i in items  # type: ignore[attr-defined]
            if i.patient.family_name == family]  # type: ignore[attr-defined]  # fmt: skip


def test_the_worklist_on_fixed_dates(
    services: Services, clinics: TwoClinics, clock: FrozenClock
) -> None:
    """Deferral end, next planned session, open adverse-event follow-up; due and overdue."""
    clinician = principal_for(clinics.a.users[Role.CLINICIAN])
    clinic = clinics.a.clinic.id
    weaned = services.patients.register(clinician, clinic, PatientDetails(unique("Weaned"), "A"))
    services.screenings.screen_intake(clinician, weaned.id, intake(
        "female", breastfeeding="no", recently_weaned="yes", weaned_on="2026-10-15"))  # fmt: skip
    treated = services.patients.register(clinician, clinic, PatientDetails(unique("Treated"), "B"))
    screening = services.screenings.screen_intake(clinician, treated.id, intake("male"))
    services.screenings.sign(clinician, screening.id, screening.version)
    plan = PlanRequest((), "norwood-1", 1.0, "dutasteride_0_01", date(2026, 11, 25))
    services.plans.create(clinician, screening.id, plan)
    consent = give_consent(
        services.patients, services.screenings, services.consents, clinics.a, treated.id
    )
    services.treatment_sessions.create(clinician, treated.id, SessionDetails(
        performed_at=datetime(2026, 11, 25, 8, tzinfo=UTC),
        points=[{"volume_ml": 0.01}] * 55,
        products=[{"name": "Dutasteride", "lot_number": "L1", "expiry": "2027-06-30"}],
        depth_mm=1.5))  # fmt: skip
    for outcome, follow_up in ((EventOutcome.RECOVERING, date(2026, 11, 28)),
                               (EventOutcome.RESOLVED, date(2026, 11, 29))):  # fmt: skip
        services.adverse_events.report(clinician, treated.id, EventDetails(
            onset_at=datetime(2026, 11, 25, 8, 30, tzinfo=UTC), severity_grade=1,
            outcome=outcome, complication_id="bruising", follow_up_on=follow_up))  # fmt: skip

    items = services.follow_ups.worklist(clinician, date(2026, 11, 30), 7)
    assert _kinds(items, treated.family_name) == [
        ("adverse_event_follow_up", "2026-11-28", True),
        ("session", "2026-12-02", False),
    ]
    assert _kinds(items, weaned.family_name) == []  # the deferral ends in April (6 months)
    services.consents.withdraw(clinician, consent.id, "stopping treatment")
    stopped = services.follow_ups.worklist(clinician, date(2026, 11, 30), 7)
    assert _kinds(stopped, treated.family_name) == [("adverse_event_follow_up", "2026-11-28", True)]
    waiting = services.patients.register(clinician, clinic, PatientDetails(unique("Waiting"), "C"))
    first = services.screenings.screen_intake(clinician, waiting.id, intake("male"))
    services.screenings.sign(clinician, first.id, first.version)
    services.plans.create(clinician, first.id, plan)
    due = services.follow_ups.worklist(clinician, date(2026, 11, 30), 7)
    (reminder,) = [i for i in due if i.patient.id == waiting.id]
    assert reminder.detail.endswith("consent needed first")
    april = services.follow_ups.worklist(clinician, date(2027, 4, 12), 7)
    assert ("rescreen", "2027-04-15", False) in _kinds(april, weaned.family_name)
    clock.advance(timedelta(days=60))
    services.screenings.screen_intake(clinician, weaned.id, intake("female"))
    again = services.follow_ups.worklist(clinician, date(2027, 4, 20), 7)
    assert _kinds(again, weaned.family_name) == []  # screened again: nothing left to remind


def test_reception_gets_no_clinical_worklist(services: Services, clinics: TwoClinics) -> None:
    with pytest.raises(PermissionDeniedError):
        services.follow_ups.worklist(
            principal_for(clinics.a.users[Role.RECEPTION]), date(2026, 11, 30)
        )


def test_the_reminders_command_lists_and_refuses_a_bad_horizon(
    services: Services, clinics: TwoClinics, capsys: pytest.CaptureFixture[str]
) -> None:
    clinician = principal_for(clinics.a.users[Role.CLINICIAN])
    family = unique("Remind")
    patient = services.patients.register(
        clinician, clinics.a.clinic.id, PatientDetails(family, "C", phone="+84 90 000 0000")
    )
    services.adverse_events.report(clinician, patient.id, EventDetails(
        onset_at=datetime(2026, 11, 24, tzinfo=UTC), severity_grade=2,
        outcome=EventOutcome.ONGOING, complication_id="swelling",
        follow_up_on=date(2026, 12, 1)))  # fmt: skip
    url = services.settings.resolved_database_url()
    assert main(["reminders", "--due-within", "7d", "--on", "2026-11-30", "--database", url]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if family in row)
    assert line.startswith("2026-12-01  due")
    assert "+84 90 000 0000" in line
    assert main(["reminders", "--due-within", "a week", "--database", url]) == 2
    assert "--due-within" in capsys.readouterr().err
