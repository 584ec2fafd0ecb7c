"""Builders for records tests: settings, two clinics with a user of every role, principals."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from mesoscreen.config import Settings
from mesoscreen.domain.access import Principal, Role
from mesoscreen.domain.planner.request import PlanRequest
from mesoscreen.domain.records import Clinic, Consent, User
from mesoscreen.domain.vocabulary import Language
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import default_atlas, default_formulary
from mesoscreen.services.accounts import Accounts
from mesoscreen.services.consents import ConsentRecords, PatientSignature
from mesoscreen.services.patients import PatientRecords
from mesoscreen.services.plan_gate import PlanGate
from mesoscreen.services.planning import PlanningService
from mesoscreen.services.screening_records import ScreeningRecords
from tests.intakes import CLEAR_MALE

PASSWORD = "correct horse battery staple"  # noqa: S105  # a test account's password
_counter = itertools.count()


def unique(prefix: str) -> str:
    """A name no other test uses (tests share one database per run)."""
    return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


def records_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for ``database_url`` with cheap Argon2 so the suite stays fast."""
    values: dict[str, object] = {
        "database_url": database_url,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
        # The tests share one client address and one frozen minute, so the per-address
        # sign-in throttle would add up failures across tests; its own tests set it low.
        "login_source_failures_per_minute": 1000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def principal_for(user: User, session_id: str = "test-session") -> Principal:
    """The principal of ``user``, as a checked session would give it."""
    return Principal(user.id, user.username, user.role, user.clinic_ids, session_id, "127.0.0.1")


@dataclass
class ClinicStaff:
    """One clinic and a user of each role in it."""

    clinic: Clinic
    users: dict[Role, User] = field(default_factory=dict)

    def principal(self, role: Role) -> Principal:
        """The principal of this clinic's user with ``role``."""
        return principal_for(self.users[role])


@dataclass
class TwoClinics:
    """Clinic A and clinic B of one group, each with its own staff."""

    a: ClinicStaff
    b: ClinicStaff


def seed_clinic(accounts: Accounts) -> ClinicStaff:
    """A new clinic with an admin, a clinician, a nurse and a receptionist."""
    clinic = accounts.create_clinic_locally(unique("Clinic"))
    admin = accounts.create_admin_locally(unique("admin"), PASSWORD, [clinic.name])
    staff = ClinicStaff(clinic, {Role.ADMIN: admin})
    for role in (Role.CLINICIAN, Role.NURSE, Role.RECEPTION):
        staff.users[role] = accounts.create_user(
            principal_for(admin), unique(role.value), PASSWORD, role, [clinic.id]
        )
    return staff


def seed_two_clinics(accounts: Accounts) -> TwoClinics:
    """Clinics A and B, each with a full staff."""
    return TwoClinics(seed_clinic(accounts), seed_clinic(accounts))


def eligible_answers() -> dict[str, object]:
    """An intake that screens eligible with no required actions."""
    return dict(CLEAR_MALE)


def allergy_answers() -> dict[str, object]:
    """An intake that needs an allergy test before treatment."""
    return dict(CLEAR_MALE) | {"allergy_history": "yes", "allergens": ["lidocaine"]}


ONE_HOUR = timedelta(hours=1)


def plan_gate() -> PlanGate:
    """The plan gate the service is built with: shipped atlas, formulary and knowledge base."""
    kb = default_knowledge_base()
    return PlanGate(PlanningService(default_atlas(), default_formulary(kb)), kb.content_hash)


def plan_request(**changes: object) -> PlanRequest:
    """A small plan that every cap allows: dutasteride over Norwood I's frontal zone."""
    fields: dict[str, object] = {
        "zones": (),
        "stage": "norwood-1",
        "spacing_cm": 1.0,
        "product": "dutasteride_0_01",
        "first_session": date(2026, 12, 1),
    }
    return PlanRequest(**(fields | changes))  # type: ignore[arg-type]


def give_consent(
    patients: PatientRecords,
    screenings: ScreeningRecords,
    consents: ConsentRecords,
    staff: ClinicStaff,
    patient_id: str,
) -> Consent:
    """An eligible screening, signed, and the patient's typed consent countersigned by the
    clinic's clinician: what a session needs before it starts."""
    clinician = staff.principal(Role.CLINICIAN)
    screening = screenings.screen_intake(clinician, patient_id, eligible_answers())
    screenings.sign(clinician, screening.id, screening.version)
    patient = patients.get(clinician, patient_id)
    typed = PatientSignature("typed", f"{patient.family_name} {patient.given_name}", True)
    taken = consents.take(clinician, screening.id, Language.EN, typed)
    return consents.countersign(clinician, taken.id, taken.version)
