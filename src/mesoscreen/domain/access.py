"""Who may do what: roles, permissions, the role matrix and the signed-in principal.

The matrix is data a reviewer can read in one place; every use case asks
``allows(role, permission)`` before it touches a record, and the tests walk
every cell of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from mesoscreen.domain.errors import AuthenticationError as AuthenticationError
from mesoscreen.domain.errors import TooManyAttemptsError as TooManyAttemptsError
from mesoscreen.domain.errors import UsernameUnavailableError as UsernameUnavailableError
from mesoscreen.domain.errors import WeakPasswordError as WeakPasswordError
from mesoscreen.domain.reasons import Reason, problem


class Role(StrEnum):
    """A user's role; one per user, valid in every clinic the user belongs to."""

    ADMIN = "admin"
    CLINICIAN = "clinician"
    NURSE = "nurse"
    RECEPTION = "reception"


class Permission(StrEnum):
    """An action on a kind of record that the role matrix grants or refuses."""

    PATIENT_READ = "patient:read"  # names, birth date, contact: what a front desk needs
    PATIENT_WRITE = "patient:write"  # register a patient, correct demographics, archive
    CLINICAL_READ = "clinical:read"  # intake facts, screenings, plans, sessions, events
    SCREENING_WRITE = "screening:write"  # post an intake, record a correction
    SCREENING_SIGN = "screening:sign"
    ACTION_RECORD = "action:record"  # allergy test results, specialist clearances
    PLAN_WRITE = "plan:write"
    PLAN_SIGN = "plan:sign"
    SESSION_WRITE = "session:write"
    SESSION_SIGN = "session:sign"
    ADVERSE_EVENT_WRITE = "adverse_event:write"
    ADVERSE_EVENT_SIGN = "adverse_event:sign"
    CONSENT_RECORD = "consent:record"  # take the patient's signature, record a withdrawal
    CONSENT_COUNTERSIGN = "consent:countersign"
    PHOTO_WRITE = "photo:write"
    OUTCOME_WRITE = "outcome:write"  # hair counts, density, thickness, self-assessment
    USER_MANAGE = "user:manage"
    CLINIC_MANAGE = "clinic:manage"
    AUDIT_READ = "audit:read"


_P = Permission

# Admins run accounts, clinics and the audit trail and see no patient data at all;
# reception books and sees names, never clinical findings or photos; only clinicians sign
# screenings, plans and adverse-event reports and countersign consent.
ROLE_MATRIX: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.ADMIN: frozenset({_P.USER_MANAGE, _P.CLINIC_MANAGE, _P.AUDIT_READ}),
        Role.CLINICIAN: frozenset(
            {
                _P.PATIENT_READ,
                _P.PATIENT_WRITE,
                _P.CLINICAL_READ,
                _P.SCREENING_WRITE,
                _P.SCREENING_SIGN,
                _P.ACTION_RECORD,
                _P.PLAN_WRITE,
                _P.PLAN_SIGN,
                _P.SESSION_WRITE,
                _P.SESSION_SIGN,
                _P.ADVERSE_EVENT_WRITE,
                _P.ADVERSE_EVENT_SIGN,
                _P.CONSENT_RECORD,
                _P.CONSENT_COUNTERSIGN,
                _P.PHOTO_WRITE,
                _P.OUTCOME_WRITE,
            }
        ),
        Role.NURSE: frozenset(
            {
                _P.PATIENT_READ,
                _P.PATIENT_WRITE,
                _P.CLINICAL_READ,
                _P.SCREENING_WRITE,
                _P.ACTION_RECORD,
                _P.SESSION_WRITE,
                _P.SESSION_SIGN,
                _P.ADVERSE_EVENT_WRITE,
                _P.CONSENT_RECORD,
                _P.PHOTO_WRITE,
                _P.OUTCOME_WRITE,
            }
        ),
        Role.RECEPTION: frozenset({_P.PATIENT_READ, _P.PATIENT_WRITE}),
    }
)


def allows(role: Role, permission: Permission) -> bool:
    """Whether ``role`` is granted ``permission`` by the role matrix."""
    return permission in ROLE_MATRIX[role]


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user a request acts for: id, role, clinics and the session in use."""

    user_id: str
    username: str
    role: Role
    clinic_ids: frozenset[str]
    session_id: str
    source: str | None = None

    def can(self, permission: Permission) -> bool:
        """Whether this principal's role grants ``permission``."""
        return allows(self.role, permission)


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

# Short sample of the most common passwords; a deployment may add a breach list.
_COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "password1234",
        "qwertyuiopas",
        "passwordpassword",
        "administrator",
        "mesoscreen123",
        "letmeinletmein",
        "iloveyouiloveyou",
    }
)


def check_password_strength(password: str, username: str) -> None:
    """Raise WeakPasswordError unless ``password`` is long enough, not common, not the name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"password: must have at least {MIN_PASSWORD_LENGTH} characters (got {len(password)})",
            problems=problem(Reason.PASSWORD_TOO_SHORT, "password", least=MIN_PASSWORD_LENGTH),
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"password: must have at most {MAX_PASSWORD_LENGTH} characters (got {len(password)})",
            problems=problem(Reason.PASSWORD_TOO_LONG, "password", most=MAX_PASSWORD_LENGTH),
        )
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS or username.lower() in lowered:
        raise WeakPasswordError(
            "password: must not be a common password or contain the username",
            problems=problem(Reason.PASSWORD_TOO_COMMON, "password"),
        )
