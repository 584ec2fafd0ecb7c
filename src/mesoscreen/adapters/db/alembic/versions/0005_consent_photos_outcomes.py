"""Informed consent (frozen documents and withdrawals), clinical photos and outcome measures.

The database itself refuses to change a countersigned consent, a withdrawal or a photo's
bytes, as it does for the audit log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 08:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL."""
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


# (table, the SQL condition on OLD under which an UPDATE is refused); DELETE is always refused.
_FROZEN = [
    ("consents", "OLD.status = 'signed'"),
    ("consent_withdrawals", "1 = 1"),
    ("photo_contents", "1 = 1"),
]


def _sqlite_triggers() -> list[str]:
    statements = []
    for table, condition in _FROZEN:
        statements.append(
            f"""CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table}
            WHEN {condition}
            BEGIN SELECT RAISE(ABORT, '{table}: a frozen record is never changed'); END"""
        )
        statements.append(
            f"""CREATE TRIGGER {table}_refuse_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table}: records are never deleted'); END"""
        )
    return statements


def _postgres_triggers() -> list[str]:
    statements = []
    for table, condition in _FROZEN:
        statements.append(
            f"""CREATE FUNCTION mesoscreen_{table}_refuse() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' OR ({condition}) THEN
                RAISE EXCEPTION '{table}: a frozen record is never changed (% refused)', TG_OP;
              END IF;
              RETURN NEW;
            END $$"""
        )
        statements.append(
            f"""CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION mesoscreen_{table}_refuse()"""
        )
    return statements


def _freeze() -> None:
    """Make the database refuse changes to frozen records."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _sqlite_triggers() if sqlite else _postgres_triggers():
        op.execute(statement)


def _unfreeze() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, _ in _FROZEN:
        if sqlite:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_delete")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_change ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS mesoscreen_{table}_refuse()")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("screening_id", sa.String(length=36), nullable=True),
        sa.Column("procedure", sa.String(length=80), nullable=False),
        sa.Column("template_version", sa.String(length=40), nullable=False),
        sa.Column("template_hash", sa.String(length=80), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("document", _json(), nullable=False),
        sa.Column("document_hash", sa.String(length=64), nullable=False),
        sa.Column("signature_method", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("patient_signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(length=36), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_consents_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_consents_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_consents_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["screening_id"], ["screenings.id"], name=op.f("fk_consents_screening_id_screenings")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"], ["users.id"], name=op.f("fk_consents_signed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consents_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "consent_withdrawals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("consent_id", sa.String(length=36), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_consent_withdrawals_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_consent_withdrawals_consent_id_consents")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_consent_withdrawals_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_consent_withdrawals_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_withdrawals")),
    )
    with op.batch_alter_table("consent_withdrawals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_withdrawals_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_withdrawals_consent_id"), ["consent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_withdrawals_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "outcome_measures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("hair_count", sa.Integer(), nullable=True),
        sa.Column("area_cm2", sa.Float(), nullable=True),
        sa.Column("density_per_cm2", sa.Float(), nullable=True),
        sa.Column("shaft_thickness_um", sa.Float(), nullable=True),
        sa.Column("self_assessment", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("replaces_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_outcome_measures_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_outcome_measures_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_outcome_measures_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["outcome_measures.id"],
            name=op.f("fk_outcome_measures_replaces_id_outcome_measures"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_outcome_measures_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_measures")),
    )
    with op.batch_alter_table("outcome_measures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outcome_measures_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outcome_measures_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outcome_measures_replaces_id"), ["replaces_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outcome_measures_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "photos",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("view", sa.String(length=32), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("taken_by", sa.String(length=36), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("replaces_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_photos_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_photos_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_photos_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["photos.id"], name=op.f("fk_photos_replaces_id_photos")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_photos_session_id_treatment_sessions"),
        ),
        sa.ForeignKeyConstraint(["taken_by"], ["users.id"], name=op.f("fk_photos_taken_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
    )
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photos_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_photos_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_photos_replaces_id"), ["replaces_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_photos_session_id"), ["session_id"], unique=False)

    op.create_table(
        "photo_contents",
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name=op.f("fk_photo_contents_photo_id_photos")
        ),
        sa.PrimaryKeyConstraint("photo_id", name=op.f("pk_photo_contents")),
    )

    _freeze()


def downgrade() -> None:
    """Revert this revision."""
    _unfreeze()
    op.drop_table("photo_contents")
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photos_session_id"))
        batch_op.drop_index(batch_op.f("ix_photos_replaces_id"))
        batch_op.drop_index(batch_op.f("ix_photos_patient_id"))
        batch_op.drop_index(batch_op.f("ix_photos_clinic_id"))

    op.drop_table("photos")
    with op.batch_alter_table("outcome_measures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_measures_session_id"))
        batch_op.drop_index(batch_op.f("ix_outcome_measures_replaces_id"))
        batch_op.drop_index(batch_op.f("ix_outcome_measures_patient_id"))
        batch_op.drop_index(batch_op.f("ix_outcome_measures_clinic_id"))

    op.drop_table("outcome_measures")
    with op.batch_alter_table("consent_withdrawals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_withdrawals_patient_id"))
        batch_op.drop_index(batch_op.f("ix_consent_withdrawals_consent_id"))
        batch_op.drop_index(batch_op.f("ix_consent_withdrawals_clinic_id"))

    op.drop_table("consent_withdrawals")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_patient_id"))
        batch_op.drop_index(batch_op.f("ix_consents_clinic_id"))

    op.drop_table("consents")
