"""An index on ``audit_log.patient_id``: /fhir/AuditEvent?patient= reads one patient's entries.

Revision ID: 0007_i18_fhir_out
Revises: 0006_i19_audit
Create Date: 2026-12-05 16:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008_i18_fhir_out"
down_revision = "0007_i21_map"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Index the patient an entry is about."""
    op.create_index("ix_audit_log_patient_id", "audit_log", ["patient_id"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_audit_log_patient_id", table_name="audit_log")
