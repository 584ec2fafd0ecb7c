"""Clinic records as values: clinics, users, patients, screenings and the treatment record.

Every patient record carries its ``clinic_id`` (the tenant) and a ``version``
that grows by one on each write, for optimistic concurrency. Signed records
are never changed: a correction is a new record whose ``replaces_id`` points
at the one it corrects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from mesoscreen.domain.access import Role
from mesoscreen.domain.errors import StaleVersionError as StaleVersionError

JsonObject = Mapping[str, Any]
JsonList = Sequence[Mapping[str, Any]]


class RecordStatus(StrEnum):
    """Where a signable record stands: editable draft, or signed and frozen."""

    DRAFT = "draft"
    SIGNED = "signed"


class ActionResult(StrEnum):
    """What a required action came to; the first of each pair lets treatment go ahead."""

    NEGATIVE = "negative"  # allergy or patch test without reaction
    POSITIVE = "positive"
    CLEARED = "cleared"  # specialist clearance given
    NOT_CLEARED = "not_cleared"
    DONE = "done"  # a review or re-examination carried out

    @property
    def done(self) -> bool:
        """Whether this result completes the action so that it no longer blocks treatment."""
        return self in (ActionResult.NEGATIVE, ActionResult.CLEARED, ActionResult.DONE)


class EventOutcome(StrEnum):
    """The outcome of an adverse event (after FHIR AdverseEvent.outcome)."""

    RESOLVED = "resolved"
    RECOVERING = "recovering"
    ONGOING = "ongoing"
    RESOLVED_WITH_SEQUELAE = "resolved_with_sequelae"
    FATAL = "fatal"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Clinic:
    """A clinic of the group: the tenant every patient record belongs to."""

    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    """An account: one role, one or more clinics, an Argon2 password hash."""

    id: str
    username: str
    role: Role
    clinic_ids: frozenset[str]
    password_hash: str
    disabled: bool
    created_at: datetime
    version: int = 1
    # The name the person is shown by where they acted; empty: the username is shown.
    display_name: str = ""

    @property
    def shown_name(self) -> str:
        """The display name, or the username while none is set."""
        return self.display_name or self.username


@dataclass(frozen=True, slots=True)
class AuthSession:
    """A server-side sign-in session; ``id`` is the SHA-256 of the token, never the token."""

    id: str
    user_id: str
    kind: str  # "cookie" for the web pages, "bearer" for integrations
    csrf_hash: str
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class LiveSessionBounds:
    """What keeps a session live at one moment: it is open, its user is enabled, and it was
    last used after ``seen_after`` and created after ``created_after`` (that moment less the
    idle and the absolute limit). The one rule for the service's check and for storage's
    check-and-touch in one statement, so the two cannot disagree."""

    seen_after: datetime
    created_after: datetime

    @classmethod
    def at(cls, now: datetime, idle: timedelta, absolute: timedelta) -> LiveSessionBounds:
        """The bounds at ``now``: idle for ``idle`` or more, or ``absolute`` old or more, is
        expired (so ``now - last_seen_at >= idle`` is ``last_seen_at <= seen_after``)."""
        return cls(seen_after=now - idle, created_after=now - absolute)

    def admit(self, session: AuthSession, user: User) -> bool:
        """Whether ``session`` of ``user`` is live within these bounds."""
        return (
            session.ended_at is None
            and not user.disabled
            and session.last_seen_at > self.seen_after
            and session.created_at > self.created_after
        )


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """Failed sign-ins for a username (known or not) and whether it is locked."""

    username: str
    failures: int
    last_failure_at: datetime | None
    locked: bool


@dataclass(frozen=True, slots=True)
class Patient:
    """A patient of one clinic with the intake facts they gave; archived, never deleted."""

    id: str
    clinic_id: str
    family_name: str
    given_name: str
    birth_date: date | None
    sex: str | None
    phone: str | None
    intake: JsonObject
    archived: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    # The patient's own language ("vi", "en"; None when not recorded): the order of their
    # name (domain.names.full_name) and the language of what they are given to read.
    language: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedFields:
    """The draft/signed fields every signable record shares, declared once: who signed it and
    when (None while it is a draft) and its version, which grows by one with each write.

    Keyword-only, so each record declares its own fields first and these come last.
    """

    signed_by: str | None = None
    signed_at: datetime | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class Screening(SignedFields):
    """An immutable snapshot: the answers, the decision, the knowledge base and the policy."""

    id: str
    clinic_id: str
    patient_id: str
    screening_date: date
    outcome: str
    answers: JsonObject
    decision: JsonObject
    knowledge_base_version: str
    knowledge_base_hash: str
    policy: JsonObject
    replaces_id: str | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ActionCompletion:
    """The recorded result of one required action of a screening (latest one counts)."""

    id: str
    clinic_id: str
    patient_id: str
    screening_id: str
    action_id: str
    kind: str
    result: str
    done: bool
    performed_on: date
    cleared_by: str | None
    cleared_at: datetime | None
    note: str | None
    recorded_by: str
    recorded_at: datetime
    version: int = 1


@dataclass(frozen=True, slots=True)
class PlanRecord(SignedFields):
    """A stored treatment plan: the planner's ``PlannedTreatment`` as a document, made from a
    screening, draft until a clinician signs it."""

    id: str
    clinic_id: str
    patient_id: str
    screening_id: str
    document: JsonObject
    status: str
    replaces_id: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TreatmentSession(SignedFields):
    """One treatment: points injected, products with lot and expiry, volumes, depth, operator."""

    id: str
    clinic_id: str
    patient_id: str
    plan_id: str | None
    performed_at: datetime
    operator_id: str
    points: JsonList
    products: JsonList
    depth_mm: float
    total_volume_ml: float
    notes: str | None
    status: str
    replaces_id: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AdverseEvent(SignedFields):
    """A complication after treatment: catalogue entry or free text, grade, actions, outcome."""

    id: str
    clinic_id: str
    patient_id: str
    session_id: str | None
    complication_id: str | None
    description: str | None
    onset_at: datetime
    severity_grade: int
    actions_taken: str | None
    outcome: str
    follow_up_on: date | None
    status: str
    replaces_id: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    # The day the event ended (its outcome then says how); None while it goes on.
    resolved_on: date | None = None


@dataclass(frozen=True, slots=True)
class RecordVoid:
    """A record entered in error (a duplicate, the wrong patient), voided with a reason.

    The record itself is kept unchanged; the void says it no longer counts (lists strike
    it through, the worklist leaves it out). One void per record, never undone.
    """

    id: str
    clinic_id: str
    patient_id: str
    record_type: str  # "session", "adverse_event", "plan", "screening", "consent", "photo"
    record_id: str
    reason: str
    voided_by: str
    voided_at: datetime
    version: int = 1


@dataclass(frozen=True, slots=True)
class Consent(SignedFields):
    """A consent document the patient signed, frozen with its template's version and hash.

    ``document`` is the text exactly as the patient saw it (template sections plus this
    patient's screening findings and required actions); ``document_hash`` is its SHA-256.
    Status ``draft`` means signed by the patient and awaiting the clinician's countersignature
    (``signed_by``/``signed_at``); ``signed`` means countersigned. Nothing of it changes after
    that: a withdrawal is a record of its own.
    """

    id: str
    clinic_id: str
    patient_id: str
    screening_id: str | None
    procedure: str
    template_version: str
    template_hash: str
    language: str
    document: JsonObject
    document_hash: str
    signature_method: str  # "drawn" (a PNG data URL) or "typed" (the full name, confirmed)
    signature: str
    patient_signed_at: datetime
    status: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ConsentWithdrawal:
    """The patient withdrew a consent: from ``withdrawn_at`` on it permits no session."""

    id: str
    clinic_id: str
    patient_id: str
    consent_id: str
    withdrawn_at: datetime
    reason: str | None
    recorded_by: str
    created_at: datetime
    version: int = 1


class PhotoView(StrEnum):
    """The standardised views of the scalp photographed at baseline and at sessions."""

    FRONT_HAIRLINE = "front_hairline"
    VERTEX = "vertex"
    LEFT_TEMPORAL = "left_temporal"
    RIGHT_TEMPORAL = "right_temporal"
    TARGET_AREA = "target_area"  # the marked area where hairs are counted


@dataclass(frozen=True, slots=True)
class Photo:
    """A clinical photo's metadata; its bytes (location metadata stripped) are kept apart."""

    id: str
    clinic_id: str
    patient_id: str
    session_id: str | None  # None for a baseline photo
    view: str
    taken_on: date
    taken_by: str
    content_type: str  # image/jpeg or image/png
    byte_size: int
    width: int
    height: int
    sha256: str
    note: str | None
    replaces_id: str | None
    created_by: str
    created_at: datetime
    version: int = 1


@dataclass(frozen=True, slots=True)
class OutcomeMeasure:
    """Hair count and density in the target area, shaft thickness and self-assessment."""

    id: str
    clinic_id: str
    patient_id: str
    session_id: str | None  # None for the baseline
    measured_on: date
    hair_count: int | None
    area_cm2: float | None
    density_per_cm2: float | None
    shaft_thickness_um: float | None
    self_assessment: int | None
    note: str | None
    replaces_id: str | None
    created_by: str
    created_at: datetime
    version: int = 1


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    """One page of a list: the items, the offset asked for and the total count."""

    items: tuple[R, ...]
    offset: int
    limit: int
    total: int
