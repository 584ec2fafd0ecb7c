"""The patient's own language, which orders their name (family name first in Vietnamese).

``patients.language`` is "vi", "en" or NULL. Patients registered before this revision keep
NULL, not a guess from the spelling of their name: NULL shows the name as the register
lists it, family name first, until someone records the patient's language.

Revision ID: 0007_i21_map
Revises: 0006_i19_audit
Create Date: 2026-12-05 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_i21_map"
down_revision = "0006_i19_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("patients", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("patients", "language")
