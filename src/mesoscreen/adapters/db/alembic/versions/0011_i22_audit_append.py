"""PostgreSQL: a batch of audit entries, their other clinics and the new chain head in one call.

The procedure ``mesoscreen_audit_append(entries, clinics, new_seq, new_hash)`` runs the three
statements the append sent one by one, in order, each a command of its own inside the caller's
transaction: the head's trigger (``audit_head_refuse_rewind``) still sees the entries the new
head names and refuses a head that names anything else, and no trigger or protection changes.
The caller still locks the head (``FOR UPDATE``) and chains the entries after it first. A head
row that is missing raises instead of moving nothing. SQLite is unchanged: its appends stay
Core statements.

Revision ID: 0011_i22_audit_append
Revises: 0010_i21_records2
Create Date: 2026-12-07 03:30:00
"""

from __future__ import annotations

from alembic import op

from mesoscreen.adapters.db.procedures import AUDIT_APPEND_0011

revision = "0011_i22_audit_append"
down_revision = "0010_i21_records2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the append procedure on PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_APPEND_0011.create())


def downgrade() -> None:
    """Drop the append procedure."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_APPEND_0011.drop())
