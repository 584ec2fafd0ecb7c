"""People by name, records voided in error, adverse events resolved, forms kept at a timeout.

- ``users.display_name``: the name a person is shown by wherever they acted (consent,
  prints, timeline, audit); empty until an admin sets it (the username is shown meanwhile).
- ``adverse_events.resolved_on``: the day an event ended, with its outcome; a resolved event
  leaves the worklist.
- ``record_voids``: a record entered in error, voided with a reason (never deleted); one void
  per record. Voided records leave the worklist and are shown struck through.
- ``kept_forms``: a form posted after the session timed out, kept for a short while for the
  browser that posted it (the key is a hash of that browser's token), so sign-in can bring
  the user back to it filled in.

Revision ID: 0009_i21_records
Revises: 0008_i18_fhir_out
Create Date: 2026-12-05 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_i21_records"
down_revision = "0008_i18_fhir_out"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns and tables."""
    op.add_column(
        "users",
        sa.Column("display_name", sa.String(length=200), nullable=False, server_default=""),
    )
    op.add_column("adverse_events", sa.Column("resolved_on", sa.Date(), nullable=True))
    op.create_table(
        "record_voids",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("voided_by", sa.String(length=36), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_record_voids_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_record_voids_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["voided_by"], ["users.id"], name=op.f("fk_record_voids_voided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_voids")),
        sa.UniqueConstraint("record_id", name=op.f("uq_record_voids_record_id")),
    )
    op.create_index(op.f("ix_record_voids_clinic_id"), "record_voids", ["clinic_id"])
    op.create_index(op.f("ix_record_voids_patient_id"), "record_voids", ["patient_id"])
    op.create_table(
        "kept_forms",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("form", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_kept_forms")),
    )
    op.create_index(op.f("ix_kept_forms_expires_at"), "kept_forms", ["expires_at"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_index(op.f("ix_kept_forms_expires_at"), table_name="kept_forms")
    op.drop_table("kept_forms")
    op.drop_index(op.f("ix_record_voids_patient_id"), table_name="record_voids")
    op.drop_index(op.f("ix_record_voids_clinic_id"), table_name="record_voids")
    op.drop_table("record_voids")
    # Dropped in place, not by batch recreation: other tables' foreign keys point at both
    # tables, and SQLite refuses to drop a referenced table while it enforces them.
    op.drop_column("adverse_events", "resolved_on")
    op.drop_column("users", "display_name")
