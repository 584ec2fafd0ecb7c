"""Failed sign-ins per client address in a short window, so a flood across many usernames
from one address is slowed the same way in every server process.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 06:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "signin_source_failures",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_signin_source_failures")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("signin_source_failures")
