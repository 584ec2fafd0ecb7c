"""CDS Hooks client tokens already used (``jti`` replay protection shared by every server).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "cds_token_uses",
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("pk_cds_token_uses")),
    )
    op.create_index(
        op.f("ix_cds_token_uses_expires_at"), "cds_token_uses", ["expires_at"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_cds_token_uses_expires_at"), table_name="cds_token_uses")
    op.drop_table("cds_token_uses")
