"""HTTP bodies: strict inputs (unknown fields refused) and the records as the API shows them.

The outputs of records are derived from the record declarations (``record_schemas``): each
names only the fields the API leaves out, with why, and the fields it adds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from mesoscreen.domain.access import Role
from mesoscreen.domain.audit import AuditEntry
from mesoscreen.domain.records import (
    ActionCompletion,
    ActionResult,
    AdverseEvent,
    Clinic,
    Consent,
    EventOutcome,
    OutcomeMeasure,
    Page,
    Patient,
    PlanRecord,
    RecordVoid,
    Screening,
    TreatmentSession,
    User,
)
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.api.record_schemas import RecordOut

T = TypeVar("T")

Name = Field(min_length=1, max_length=200)


class StrictInput(BaseModel):
    """An input body: unknown fields (``clinic_id``, ``signed_by``...) are refused."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    """A response body read from a domain record."""

    model_config = ConfigDict(from_attributes=True)


class PageOut(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    offset: int
    limit: int
    total: int

    @classmethod
    def of(cls, page: Page[Any], convert: Any) -> PageOut[T]:
        """A page of converted items."""
        return cls(
            items=[convert(i) for i in page.items],
            offset=page.offset,
            limit=page.limit,
            total=page.total,
        )


class LoginIn(StrictInput):
    """Credentials for a sign-in."""

    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class SessionOut(BaseModel):
    """A browser session: who is signed in and the CSRF token to send with writes."""

    user_id: str
    username: str
    role: Role
    clinic_ids: list[str]
    csrf_token: str | None = None
    expires_at: datetime | None = None


class TokenOut(BaseModel):
    """A bearer token for an integration."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105  # the OAuth token type, not a secret
    expires_at: datetime


class ClinicIn(StrictInput):
    """A new clinic."""

    name: str = Name


class ClinicOut(RecordOut, record=Clinic):
    """A clinic."""


class UserIn(StrictInput):
    """A new account."""

    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    clinic_ids: list[str] = Field(min_length=1)


class UserChangeIn(StrictInput):
    """A change of role, clinics (among the caller's own) or disabled state."""

    role: Role
    clinic_ids: list[str]
    disabled: bool


class UserOut(
    RecordOut,
    record=User,
    left_out={
        "password_hash": "a secret: it never leaves the server",
        "display_name": "not in the API yet: the pages show it where the person acted",
    },
):
    """An account as the calling admin sees it, without its password hash: its clinics among
    the caller's, and whether it also works in others (never which)."""

    in_other_clinics: bool = False


class PatientIn(StrictInput):
    """A patient's details; ``intake`` holds the facts they gave (clinical roles only)."""

    family_name: str = Name
    given_name: str = Name
    birth_date: date | None = None
    sex: str | None = Field(default=None, max_length=16)
    phone: str | None = Field(default=None, max_length=40)
    intake: dict[str, Any] | None = None
    language: Language | None = Field(
        default=None,
        description="The patient's own language: their name is written family name first in "
        "Vietnamese, given name first in English (unknown: family name first).",
    )


class NewPatientIn(PatientIn):
    """A patient to register in one of the caller's clinics."""

    clinic_id: str = Field(min_length=1, max_length=36)


class PatientOut(
    RecordOut,
    record=Patient,
    left_out={"created_by": "not in the API: the audit trail tells who registered the patient"},
):
    """A patient; ``intake`` is left out for roles that may not read clinical data."""

    intake: dict[str, Any] | None  # None for roles that may not read clinical data
    language: str | None = None  # optional in the schema, as published when it was added
    full_name: str = Field(
        default="", description="The name in the order the patient's language writes it."
    )


class IntakeIn(StrictInput):
    """What to screen: intake ``answers`` (keys are the knowledge base's question ids) or a
    FHIR ``document`` (a QuestionnaireResponse to the intake Questionnaire, or one patient's
    Bundle), exactly one of them; both are read by the one intake reader."""

    answers: dict[str, Any] | None = None
    document: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_of_them(self) -> Self:
        if (self.answers is None) == (self.document is None):
            raise ValueError("expected exactly one of 'answers' and 'document'")
        return self

    @property
    def given(self) -> dict[str, Any]:
        """The answers or the document, whichever was sent."""
        given = self.answers if self.answers is not None else self.document
        assert given is not None  # noqa: S101 (the validator checked one was sent)
        return given


class ScreeningOut(RecordOut, record=Screening):
    """A stored screening snapshot."""

    replaced: bool = False


class ActionIn(StrictInput):
    """The result of a required action; a clearance names who gave it and when."""

    action_id: str = Field(min_length=1, max_length=80)
    result: ActionResult
    performed_on: date
    cleared_by: str | None = Field(default=None, max_length=200)
    cleared_at: AwareDatetime | None = None
    note: str | None = Field(default=None, max_length=2000)


class ActionOut(
    RecordOut,
    record=ActionCompletion,
    left_out={"clinic_id": "not in the API: the screening it answers is of that clinic"},
):
    """A recorded action result."""


class PlanIn(StrictInput):
    """A planning request; the planner makes the plan document from it (none is accepted).

    Give a stage, zones or both. Volume per point and depth default to the product's and must
    stay within its caps; a plan over any cap, with an excluded ingredient, or starting before
    the screening's earliest date is refused (422 naming the ``field``).
    """

    stage: str | None = Field(default=None, min_length=1, max_length=40)
    zones: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=20
    )
    spacing_cm: float = Field(default=1.0, allow_inf_nan=False)
    product: str = Field(min_length=1, max_length=80)
    first_session: date
    head_circumference_cm: float | None = Field(default=None, allow_inf_nan=False)
    nasion_inion_cm: float | None = Field(default=None, allow_inf_nan=False)
    ear_to_ear_cm: float | None = Field(default=None, allow_inf_nan=False)
    volume_per_point_ml: float | None = Field(default=None, allow_inf_nan=False)
    depth_mm: (
        tuple[
            Annotated[float, Field(allow_inf_nan=False)],
            Annotated[float, Field(allow_inf_nan=False)],
        ]
        | None
    ) = None


class PlanOut(RecordOut, record=PlanRecord):
    """A treatment plan."""

    replaced: bool = False


class PointIn(StrictInput):
    """One injection point."""

    label: str = Field(min_length=1, max_length=80)
    volume_ml: float = Field(gt=0, le=10)
    depth_mm: float | None = Field(default=None, gt=0, le=10)


class ProductIn(StrictInput):
    """A product used, with its lot and expiry."""

    name: str = Field(min_length=1, max_length=200)
    lot_number: str = Field(min_length=1, max_length=80)
    expiry: date
    volume_ml: float = Field(gt=0, le=100)


class SessionIn(StrictInput):
    """A treatment session as performed."""

    performed_at: AwareDatetime
    points: list[PointIn] = Field(min_length=1, max_length=500)
    products: list[ProductIn] = Field(min_length=1, max_length=50)
    depth_mm: float = Field(gt=0, le=10)
    plan_id: str | None = None
    operator_id: str | None = None
    notes: str | None = Field(default=None, max_length=4000)


class TreatmentSessionOut(RecordOut, record=TreatmentSession):
    """A treatment session."""

    replaced: bool = False


class AdverseEventIn(StrictInput):
    """An adverse event: a catalogue complication or free text, graded 1 to 5."""

    onset_at: AwareDatetime
    severity_grade: int = Field(ge=1, le=5)
    outcome: EventOutcome
    complication_id: str | None = Field(default=None, max_length=80)
    description: str | None = Field(default=None, max_length=4000)
    session_id: str | None = None
    actions_taken: str | None = Field(default=None, max_length=4000)
    follow_up_on: date | None = None


class AdverseEventOut(RecordOut, record=AdverseEvent):
    """An adverse event; ``resolved_on`` is the day it ended (None while it goes on)."""

    replaced: bool = False


class ResolutionIn(StrictInput):
    """How and when an adverse event ended."""

    outcome: EventOutcome
    resolved_on: date


class VoidIn(StrictInput):
    """Why a record was entered in error (a duplicate, the wrong patient); the service
    refuses an empty reason or one past its limit, naming the field."""

    reason: str = Field(max_length=4000)


class VoidOut(RecordOut, record=RecordVoid):
    """A void: the record it says no longer counts, why, who and when."""


class AuditEntryOut(
    RecordOut,
    record=AuditEntry,
    left_out={
        "other_clinic_ids": "not in the API: it decides whose admins read the entry, and "
        "naming another clinic to this one's admin would tell where else a person works"
    },
):
    """One audit entry with its place in the chain."""

    # The FHIR AuditEvent codes as plain strings, as ``AuditEntry.plain_fields()`` writes them.
    action: str
    outcome: str
    seq: int
    hash: str


class OutcomeMeasureIn(StrictInput):
    """What was measured on one day; a count needs the area it was made in."""

    measured_on: date
    session_id: str | None = None
    hair_count: int | None = Field(default=None, ge=0)
    area_cm2: float | None = Field(default=None, gt=0)
    shaft_thickness_um: float | None = Field(default=None, gt=0)
    self_assessment: int | None = None
    note: str | None = Field(default=None, max_length=2000)
    replaces_id: str | None = None


class OutcomeMeasureOut(
    RecordOut,
    record=OutcomeMeasure,
    left_out={"version": "not in the API: a measure is never changed, a correction replaces it"},
):
    """A recorded outcome measure, with the density worked out from the count."""


class ConsentIn(StrictInput):
    """The patient's signature on the consent document of a screening."""

    language: Language = Language.EN
    signature_method: str = Field(pattern="^(drawn|typed)$")
    # A drawn signature is a PNG data URL of at most 100 KB (about 133,400 base64 characters).
    signature: str = Field(min_length=1, max_length=140_000)
    confirmed: bool
    template_version: str | None = Field(default=None, max_length=20)


class WithdrawalIn(StrictInput):
    """Why the patient withdrew consent, if they said."""

    reason: str | None = Field(default=None, max_length=2000)


class ConsentOut(
    RecordOut,
    record=Consent,
    left_out={
        "signature": "the drawn image or typed name: kept with the consent, shown on its page",
        "created_by": "not in the API: the audit trail tells who took the signature",
        "created_at": "not in the API: patient_signed_at tells when the patient signed",
        "updated_at": "not in the API: signed_at tells when it was countersigned",
    },
):
    """A consent: the frozen document, both signatures, and its withdrawal if any."""

    current_version: bool
    active: bool
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
