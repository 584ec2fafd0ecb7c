"""PostgreSQL: the append procedure locks the chain head itself and stores only after the head
the entries were chained from.

``mesoscreen_audit_append(entries, clinics, expected_seq, expected_hash, new_seq, new_hash,
stored, head_seq, head_hash)`` takes the head's row lock (``FOR UPDATE``) and compares the
head with the one the caller chained the entries after. The same: it stores the entries and
their other clinics and moves the head, each a command of its own, as migration 0011's
procedure did (the head's trigger still sees the entries the new head names), and answers
``stored`` true. Another: it stores nothing and answers ``stored`` false with the head it
found, keeping the lock, so the caller chains after that head and calls again, and no other
writer can move it in between. So an append whose caller knows the head (the last one its
process wrote) is one round trip instead of the lock's and the call's, and the lock is held
from the call to the commit only. A missing head row still raises. Migration 0011's
procedure (four arguments) stays beside it for servers not yet upgraded. SQLite is
unchanged.

Revision ID: 0012_i22_audit_append_checked
Revises: 0011_i22_audit_append
Create Date: 2026-12-07 05:40:00
"""

from __future__ import annotations

from alembic import op

from mesoscreen.adapters.db.procedures import AUDIT_APPEND_0012

revision = "0012_i22_audit_append_checked"
down_revision = "0011_i22_audit_append"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the append procedure that checks the head under its lock. Migration 0011's, with
    four arguments, stays: a server not yet upgraded, sharing the database, still locks the
    head first and calls it, and both take the same row lock."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_APPEND_0012.create())


def downgrade() -> None:
    """Drop the procedure this migration added (0011's stays)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_APPEND_0012.drop())
