"""Clinic records schema: tenants, accounts, patient records and the append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 03:26:28.261961
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL."""
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_log_refuse_{verb.lower()} BEFORE {verb} ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {verb} refused'); END"""
    for verb in ("UPDATE", "DELETE")
]

_POSTGRES_TRIGGERS = [
    """CREATE FUNCTION mesoscreen_audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$""",
    """CREATE TRIGGER audit_log_refuse_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION mesoscreen_audit_log_refuse()""",
    """CREATE TRIGGER audit_log_refuse_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION mesoscreen_audit_log_refuse()""",
]


def _refuse_audit_changes() -> None:
    """Make the database itself refuse UPDATE and DELETE (and TRUNCATE) on the audit log."""
    statements = _SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else _POSTGRES_TRIGGERS
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=1), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("clinic_id", sa.String(length=36), nullable=True),
        sa.Column("patient_id", sa.String(length=36), nullable=True),
        sa.Column("entity_type", sa.String(length=40), nullable=True),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_recorded_at"), "audit_log", ["recorded_at"], unique=False)
    op.create_table(
        "clinics",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinics")),
        sa.UniqueConstraint("name", name=op.f("uq_clinics_name")),
    )
    op.create_table(
        "login_throttles",
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_throttles")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("csrf_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    op.create_index(op.f("ix_auth_sessions_user_id"), "auth_sessions", ["user_id"], unique=False)
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_memberships_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "clinic_id", name=op.f("pk_memberships")),
    )
    op.create_index(op.f("ix_memberships_clinic_id"), "memberships", ["clinic_id"], unique=False)
    op.create_table(
        "patients",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=16), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column(
            "intake",
            _json(),
            nullable=False,
        ),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_patients_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_patients_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_index(op.f("ix_patients_clinic_id"), "patients", ["clinic_id"], unique=False)
    op.create_table(
        "screenings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("screening_date", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column(
            "answers",
            _json(),
            nullable=False,
        ),
        sa.Column(
            "decision",
            _json(),
            nullable=False,
        ),
        sa.Column("knowledge_base_version", sa.String(length=40), nullable=False),
        sa.Column("knowledge_base_hash", sa.String(length=80), nullable=False),
        sa.Column(
            "policy",
            _json(),
            nullable=False,
        ),
        sa.Column("replaces_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(length=36), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_screenings_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_screenings_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_screenings_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["screenings.id"], name=op.f("fk_screenings_replaces_id_screenings")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"], ["users.id"], name=op.f("fk_screenings_signed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screenings")),
    )
    op.create_index(op.f("ix_screenings_clinic_id"), "screenings", ["clinic_id"], unique=False)
    op.create_index(op.f("ix_screenings_patient_id"), "screenings", ["patient_id"], unique=False)
    op.create_index(op.f("ix_screenings_replaces_id"), "screenings", ["replaces_id"], unique=False)
    op.create_table(
        "action_completions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("screening_id", sa.String(length=36), nullable=False),
        sa.Column("action_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("cleared_by", sa.String(length=200), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_action_completions_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_action_completions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_action_completions_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["screening_id"],
            ["screenings.id"],
            name=op.f("fk_action_completions_screening_id_screenings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_completions")),
    )
    op.create_index(
        op.f("ix_action_completions_clinic_id"), "action_completions", ["clinic_id"], unique=False
    )
    op.create_index(
        op.f("ix_action_completions_patient_id"), "action_completions", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_action_completions_screening_id"),
        "action_completions",
        ["screening_id"],
        unique=False,
    )
    op.create_table(
        "treatment_plans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("screening_id", sa.String(length=36), nullable=False),
        sa.Column(
            "document",
            _json(),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("replaces_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(length=36), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_treatment_plans_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_treatment_plans_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_treatment_plans_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["treatment_plans.id"],
            name=op.f("fk_treatment_plans_replaces_id_treatment_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["screening_id"],
            ["screenings.id"],
            name=op.f("fk_treatment_plans_screening_id_screenings"),
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"], ["users.id"], name=op.f("fk_treatment_plans_signed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_plans")),
    )
    op.create_index(
        op.f("ix_treatment_plans_clinic_id"), "treatment_plans", ["clinic_id"], unique=False
    )
    op.create_index(
        op.f("ix_treatment_plans_patient_id"), "treatment_plans", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_treatment_plans_replaces_id"), "treatment_plans", ["replaces_id"], unique=False
    )
    op.create_index(
        op.f("ix_treatment_plans_screening_id"), "treatment_plans", ["screening_id"], unique=False
    )
    op.create_table(
        "treatment_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=True),
        sa.Column("performed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator_id", sa.String(length=36), nullable=False),
        sa.Column(
            "points",
            _json(),
            nullable=False,
        ),
        sa.Column(
            "products",
            _json(),
            nullable=False,
        ),
        sa.Column("depth_mm", sa.Float(), nullable=False),
        sa.Column("total_volume_ml", sa.Float(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("replaces_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(length=36), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_treatment_sessions_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_treatment_sessions_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["users.id"], name=op.f("fk_treatment_sessions_operator_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_treatment_sessions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plans.id"],
            name=op.f("fk_treatment_sessions_plan_id_treatment_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_treatment_sessions_replaces_id_treatment_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"], ["users.id"], name=op.f("fk_treatment_sessions_signed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_sessions")),
    )
    op.create_index(
        op.f("ix_treatment_sessions_clinic_id"), "treatment_sessions", ["clinic_id"], unique=False
    )
    op.create_index(
        op.f("ix_treatment_sessions_patient_id"), "treatment_sessions", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_treatment_sessions_plan_id"), "treatment_sessions", ["plan_id"], unique=False
    )
    op.create_index(
        op.f("ix_treatment_sessions_replaces_id"),
        "treatment_sessions",
        ["replaces_id"],
        unique=False,
    )
    op.create_table(
        "adverse_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("complication_id", sa.String(length=80), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("onset_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity_grade", sa.Integer(), nullable=False),
        sa.Column("actions_taken", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("replaces_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(length=36), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_adverse_events_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_adverse_events_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_adverse_events_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["adverse_events.id"],
            name=op.f("fk_adverse_events_replaces_id_adverse_events"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_adverse_events_session_id_treatment_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"], ["users.id"], name=op.f("fk_adverse_events_signed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_events")),
    )
    op.create_index(
        op.f("ix_adverse_events_clinic_id"), "adverse_events", ["clinic_id"], unique=False
    )
    op.create_index(
        op.f("ix_adverse_events_patient_id"), "adverse_events", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_adverse_events_replaces_id"), "adverse_events", ["replaces_id"], unique=False
    )
    op.create_index(
        op.f("ix_adverse_events_session_id"), "adverse_events", ["session_id"], unique=False
    )
    _refuse_audit_changes()
    op.bulk_insert(
        sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash")),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
    )


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_log")
        op.execute("DROP FUNCTION mesoscreen_audit_log_refuse()")
    op.drop_index(op.f("ix_adverse_events_session_id"), table_name="adverse_events")
    op.drop_index(op.f("ix_adverse_events_replaces_id"), table_name="adverse_events")
    op.drop_index(op.f("ix_adverse_events_patient_id"), table_name="adverse_events")
    op.drop_index(op.f("ix_adverse_events_clinic_id"), table_name="adverse_events")
    op.drop_table("adverse_events")
    op.drop_index(op.f("ix_treatment_sessions_replaces_id"), table_name="treatment_sessions")
    op.drop_index(op.f("ix_treatment_sessions_plan_id"), table_name="treatment_sessions")
    op.drop_index(op.f("ix_treatment_sessions_patient_id"), table_name="treatment_sessions")
    op.drop_index(op.f("ix_treatment_sessions_clinic_id"), table_name="treatment_sessions")
    op.drop_table("treatment_sessions")
    op.drop_index(op.f("ix_treatment_plans_screening_id"), table_name="treatment_plans")
    op.drop_index(op.f("ix_treatment_plans_replaces_id"), table_name="treatment_plans")
    op.drop_index(op.f("ix_treatment_plans_patient_id"), table_name="treatment_plans")
    op.drop_index(op.f("ix_treatment_plans_clinic_id"), table_name="treatment_plans")
    op.drop_table("treatment_plans")
    op.drop_index(op.f("ix_action_completions_screening_id"), table_name="action_completions")
    op.drop_index(op.f("ix_action_completions_patient_id"), table_name="action_completions")
    op.drop_index(op.f("ix_action_completions_clinic_id"), table_name="action_completions")
    op.drop_table("action_completions")
    op.drop_index(op.f("ix_screenings_replaces_id"), table_name="screenings")
    op.drop_index(op.f("ix_screenings_patient_id"), table_name="screenings")
    op.drop_index(op.f("ix_screenings_clinic_id"), table_name="screenings")
    op.drop_table("screenings")
    op.drop_index(op.f("ix_patients_clinic_id"), table_name="patients")
    op.drop_table("patients")
    op.drop_index(op.f("ix_memberships_clinic_id"), table_name="memberships")
    op.drop_table("memberships")
    op.drop_index(op.f("ix_auth_sessions_user_id"), table_name="auth_sessions")
    op.drop_table("auth_sessions")
    op.drop_table("users")
    op.drop_table("login_throttles")
    op.drop_table("clinics")
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index(op.f("ix_audit_log_recorded_at"), table_name="audit_log")
        op.drop_table("audit_log")
    op.drop_table("audit_head")
