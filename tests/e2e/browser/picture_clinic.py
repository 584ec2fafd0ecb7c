"""A clinic whose pages look the same on every run: fixed names, seeded ids, a frozen clock.

The picture tests compare screenshots with baselines, so everything a page shows must be the
same each time: the people and patients have fixed names, every id the services draw with
``uuid.uuid4`` comes from a seeded generator while the clinic is built (ids reach pages as
hashes and references), and the clock is frozen: the clinic is built on 24 Nov 2026 and its
pages are seen on 25 Nov, so a page of past events (the audit trail up to 24 Nov) does not
change with the pages the tests opened before it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from unittest import mock

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.outcomes import Measurements
from mesoscreen.domain.planner.request import PlanRequest
from mesoscreen.domain.records import EventOutcome
from mesoscreen.domain.vocabulary import Language
from mesoscreen.services.adverse_events import EventDetails
from mesoscreen.services.consents import PatientSignature
from mesoscreen.services.outcome_measures import OutcomeDetails
from mesoscreen.services.patients import PatientDetails
from mesoscreen.services.treatment_sessions import SessionDetails
from tests.factories import PASSWORD, principal_for
from tests.intakes import intake

CLINIC_NAME = "Phòng khám Tóc Sài Gòn"
USERS = {
    Role.CLINICIAN: ("bs.hoa", "BS. Lê Thị Hoa"),
    Role.NURSE: ("dd.nam", "ĐD. Phạm Văn Nam"),
    Role.RECEPTION: ("letan.mai", "Võ Thị Mai"),
}
ADMIN = "quantri"


@dataclass
class PictureClinic:
    """What the seeded clinic holds, by the names the picture tests use in paths."""

    usernames: dict[Role, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


@contextmanager
def seeded_ids(seed: int = 21) -> Iterator[None]:
    """``uuid.uuid4`` draws from a generator seeded with ``seed`` inside the block."""
    generator = random.Random(seed)  # noqa: S311  # reproducible test ids, not secrets

    def seeded_uuid4() -> uuid.UUID:
        return uuid.UUID(int=generator.getrandbits(128), version=4)

    with mock.patch("uuid.uuid4", seeded_uuid4):
        yield


def build_picture_clinic(services: Services) -> PictureClinic:
    """One clinic with its staff, a treated patient, a deferred one and a new one."""
    accounts = services.accounts
    clinic = accounts.create_clinic_locally(CLINIC_NAME)
    admin = accounts.create_admin_locally(ADMIN, PASSWORD, [clinic.name])
    seeded = PictureClinic({Role.ADMIN: ADMIN})
    users = {}
    for role, (username, shown) in USERS.items():
        users[role] = accounts.create_user(
            principal_for(admin), username, PASSWORD, role, [clinic.id], shown
        )
        seeded.usernames[role] = username
    clinician = principal_for(users[Role.CLINICIAN])
    patients = services.patients

    minh = patients.register(clinician, clinic.id, PatientDetails(
        "Nguyễn", "Văn Minh", date(1984, 9, 30), "male", "0903 123 456",
        language="vi"))  # fmt: skip
    screening = services.screenings.screen_intake(clinician, minh.id, intake("male"))
    screening = services.screenings.sign(clinician, screening.id, screening.version)
    request = PlanRequest((), "norwood-3", 1.0, "dutasteride_0_01", date(2026, 11, 24))
    plan = services.plans.create(clinician, screening.id, request)
    plan = services.plans.sign(clinician, plan.id, plan.version)
    typed = PatientSignature("typed", "Nguyễn Văn Minh", True)
    consent = services.consents.take(clinician, screening.id, Language.VI, typed)
    consent = services.consents.countersign(clinician, consent.id, consent.version)
    session = services.treatment_sessions.create(clinician, minh.id, SessionDetails(
        performed_at=datetime(2026, 11, 24, 1, 30, tzinfo=UTC),
        points=[{"volume_ml": 0.02}] * 40,
        products=[{"name": "Dutasteride 0.01%", "lot_number": "DT-2611", "expiry": "2027-06-30"}],
        depth_mm=1.5, plan_id=plan.id))  # fmt: skip
    event = services.adverse_events.report(clinician, minh.id, EventDetails(
        onset_at=datetime(2026, 11, 24, 2, 0, tzinfo=UTC), severity_grade=1,
        outcome=EventOutcome.ONGOING, complication_id="bruising",
        actions_taken="Cold compress", follow_up_on=date(2026, 11, 27)))  # fmt: skip
    measured = Measurements(hair_count=118, area_cm2=1.0, self_assessment=3)
    baseline = OutcomeDetails(date(2026, 11, 24), measured)
    services.outcome_measures.record(clinician, minh.id, baseline)

    lan = patients.register(clinician, clinic.id, PatientDetails(
        "Trần", "Thị Lan", date(1991, 3, 12), "female", language="vi"))  # fmt: skip
    deferred = services.screenings.screen_intake(clinician, lan.id, intake(
        "female", breastfeeding="no", recently_weaned="yes", weaned_on="2026-10-15"))  # fmt: skip

    smith = patients.register(clinician, clinic.id, PatientDetails(
        "Smith", "Laura", date(1979, 6, 2), "female", language="en"))  # fmt: skip
    seeded.ids = {
        "minh": minh.id, "screening": screening.id, "plan": plan.id, "consent": consent.id,
        "session": session.id, "event": event.id, "lan": lan.id, "deferred": deferred.id,
        "smith": smith.id,
    }  # fmt: skip
    return seeded
