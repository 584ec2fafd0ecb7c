"""The storage schema as explicit SQLAlchemy Core tables; migrations create it, never this file.

Times are stored as UTC and read back timezone-aware on both SQLite and
PostgreSQL; JSON documents use JSONB on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive times; store UTC (naive on SQLite, which has no time zones)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_type() -> Any:
    """JSON on SQLite, JSONB on PostgreSQL."""
    return JSON().with_variant(JSONB(), "postgresql")


ID = 36  # a UUID in text form


def _id() -> Column[str]:
    return Column("id", String(ID), primary_key=True)


def _ref(name: str, target: str, *, nullable: bool = False, index: bool = True) -> Column[str]:
    return Column(name, String(ID), ForeignKey(f"{target}.id"), nullable=nullable, index=index)


def _signable(table: str) -> list[Column[Any]]:
    """Columns every draft-then-signed record of ``table`` shares."""
    return [
        Column("status", String(16), nullable=False),
        _ref("replaces_id", table, nullable=True),
        _ref("created_by", "users", index=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        _ref("signed_by", "users", nullable=True, index=False),
        Column("signed_at", UTCDateTime(), nullable=True),
        Column("version", Integer, nullable=False),
    ]


clinics = Table(
    "clinics",
    metadata,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

users = Table(
    "users",
    metadata,
    _id(),
    Column("username", String(150), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    # The name a person is shown by where they acted; empty: the username is shown.
    Column("display_name", String(200), nullable=False, server_default=""),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", String(ID), ForeignKey("users.id"), primary_key=True),
    Column("clinic_id", String(ID), ForeignKey("clinics.id"), primary_key=True, index=True),
)

auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    _ref("user_id", "users"),
    Column("kind", String(16), nullable=False),
    Column("csrf_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("source", String(100), nullable=True),
)

login_throttles = Table(
    "login_throttles",
    metadata,
    Column("username", String(150), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime(), nullable=True),
    Column("locked", Boolean, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", String(ID), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("record_id", String(ID), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

signin_source_failures = Table(
    "signin_source_failures",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("window_started_at", UTCDateTime(), nullable=False),
    Column("failures", Integer, nullable=False),
)

cds_token_uses = Table(
    "cds_token_uses",
    metadata,
    Column("issuer", String(300), primary_key=True),
    Column("jti", String(200), primary_key=True),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

patients = Table(
    "patients",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    Column("family_name", String(200), nullable=False),
    Column("given_name", String(200), nullable=False),
    # Family and given name folded by domain.names.name_search_key: what searches match.
    Column("name_search_key", Text, nullable=False, server_default=""),
    Column("birth_date", Date, nullable=True),
    Column("sex", String(16), nullable=True),
    Column("phone", String(40), nullable=True),
    Column("intake", json_type(), nullable=False),
    Column("archived", Boolean, nullable=False),
    _ref("created_by", "users", index=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    # The patient's own language, for the order of their name; NULL when not recorded.
    Column("language", String(8), nullable=True),
)

screenings = Table(
    "screenings",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    _ref("patient_id", "patients"),
    Column("screening_date", Date, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("answers", json_type(), nullable=False),
    Column("decision", json_type(), nullable=False),
    Column("knowledge_base_version", String(40), nullable=False),
    Column("knowledge_base_hash", String(80), nullable=False),
    Column("policy", json_type(), nullable=False),
    _ref("replaces_id", "screenings", nullable=True),
    _ref("created_by", "users", index=False),
    Column("created_at", UTCDateTime(), nullable=False),
    _ref("signed_by", "users", nullable=True, index=False),
    Column("signed_at", UTCDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
)

action_completions = Table(
    "action_completions",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    _ref("patient_id", "patients"),
    _ref("screening_id", "screenings"),
    Column("action_id", String(80), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("result", String(16), nullable=False),
    Column("done", Boolean, nullable=False),
    Column("performed_on", Date, nullable=False),
    Column("cleared_by", String(200), nullable=True),
    Column("cleared_at", UTCDateTime(), nullable=True),
    Column("note", Text, nullable=True),
    _ref("recorded_by", "users", index=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)

treatment_plans = Table(
    "treatment_plans",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    _ref("patient_id", "patients"),
    _ref("screening_id", "screenings"),
    Column("document", json_type(), nullable=False),
    *_signable("treatment_plans"),
)

treatment_sessions = Table(
    "treatment_sessions",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    _ref("patient_id", "patients"),
    _ref("plan_id", "treatment_plans", nullable=True),
    Column("performed_at", UTCDateTime(), nullable=False),
    _ref("operator_id", "users", index=False),
    Column("points", json_type(), nullable=False),
    Column("products", json_type(), nullable=False),
    Column("depth_mm", Float, nullable=False),
    Column("total_volume_ml", Float, nullable=False),
    Column("notes", Text, nullable=True),
    *_signable("treatment_sessions"),
)

adverse_events = Table(
    "adverse_events",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    _ref("patient_id", "patients"),
    _ref("session_id", "treatment_sessions", nullable=True),
    Column("complication_id", String(80), nullable=True),
    Column("description", Text, nullable=True),
    Column("onset_at", UTCDateTime(), nullable=False),
    Column("severity_grade", Integer, nullable=False),
    Column("actions_taken", Text, nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("follow_up_on", Date, nullable=True),
    *_signable("adverse_events"),
    # The day the event ended (with its outcome); it then leaves the worklist.
    Column("resolved_on", Date, nullable=True),
)

# A record entered in error, voided with a reason: never deleted, one void per record.
record_voids = Table(
    "record_voids",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    _ref("patient_id", "patients"),
    Column("record_type", String(40), nullable=False),
    Column("record_id", String(ID), nullable=False, unique=True),
    Column("reason", Text, nullable=False),
    _ref("voided_by", "users", index=False),
    Column("voided_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)

# The one-use key of a web form that creates a record, with the record it made: a second or
# concurrent submission of the same form finds it instead of making a duplicate.
form_keys = Table(
    "form_keys",
    metadata,
    Column("clinic_id", String(ID), ForeignKey("clinics.id"), primary_key=True),
    Column("form", String(60), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("record_id", String(ID), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# A form posted after its session timed out, for the browser that posted it, briefly.
kept_forms = Table(
    "kept_forms",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("path", String(300), nullable=False),
    Column("form", json_type(), nullable=False),
    Column("kept_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

consents = Table(
    "consents",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    _ref("patient_id", "patients"),
    _ref("screening_id", "screenings", nullable=True, index=False),
    Column("procedure", String(80), nullable=False),
    Column("template_version", String(40), nullable=False),
    Column("template_hash", String(80), nullable=False),
    Column("language", String(8), nullable=False),
    Column("document", json_type(), nullable=False),
    Column("document_hash", String(64), nullable=False),
    Column("signature_method", String(16), nullable=False),
    Column("signature", Text, nullable=False),
    Column("patient_signed_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    _ref("created_by", "users", index=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    _ref("signed_by", "users", nullable=True, index=False),
    Column("signed_at", UTCDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
)

consent_withdrawals = Table(
    "consent_withdrawals",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    _ref("patient_id", "patients"),
    _ref("consent_id", "consents"),
    Column("withdrawn_at", UTCDateTime(), nullable=False),
    Column("reason", Text, nullable=True),
    _ref("recorded_by", "users", index=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)

photos = Table(
    "photos",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    _ref("patient_id", "patients"),
    _ref("session_id", "treatment_sessions", nullable=True),
    Column("view", String(32), nullable=False),
    Column("taken_on", Date, nullable=False),
    _ref("taken_by", "users", index=False),
    Column("content_type", String(32), nullable=False),
    Column("byte_size", Integer, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("note", Text, nullable=True),
    _ref("replaces_id", "photos", nullable=True),
    _ref("created_by", "users", index=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)

# The image bytes, apart from the metadata so that listing photos never reads them.
photo_contents = Table(
    "photo_contents",
    metadata,
    Column("photo_id", String(ID), ForeignKey("photos.id"), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

outcome_measures = Table(
    "outcome_measures",
    metadata,
    _id(),
    _ref("clinic_id", "clinics"),
    _ref("patient_id", "patients"),
    _ref("session_id", "treatment_sessions", nullable=True),
    Column("measured_on", Date, nullable=False),
    Column("hair_count", Integer, nullable=True),
    Column("area_cm2", Float, nullable=True),
    Column("density_per_cm2", Float, nullable=True),
    Column("shaft_thickness_um", Float, nullable=True),
    Column("self_assessment", Integer, nullable=True),
    Column("note", Text, nullable=True),
    _ref("replaces_id", "outcome_measures", nullable=True),
    _ref("created_by", "users", index=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("recorded_at", UTCDateTime(), nullable=False, index=True),
    Column("event_type", String(80), nullable=False),
    Column("action", String(1), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("actor_id", String(ID), nullable=True),
    Column("actor_role", String(16), nullable=True),
    Column("clinic_id", String(ID), nullable=True, index=True),
    Column("patient_id", String(ID), nullable=True, index=True),
    Column("entity_type", String(40), nullable=True),
    Column("entity_id", String(64), nullable=True),
    Column("source", String(100), nullable=True),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# The further clinics an entry concerns besides its own ``clinic_id`` (a sign-in concerns every
# clinic of the user): whose admins may read it. Part of the entry's hash; append-only too.
audit_entry_clinics = Table(
    "audit_entry_clinics",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("clinic_id", String(ID), primary_key=True, index=True),
)

# One row (id 1): the last sequence number and hash; locked to serialise appends.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Execution option of a statement that writes though SQLAlchemy sees a SELECT or a text (a
# data-modifying CTE, the audit append's CALL): the unit of work counts it as a write (see
# unit_of_work._note_writes).
WRITES = "mesoscreen_writes"
