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

revision = "0012_i22_audit_append_checked"
down_revision = "0011_i22_audit_append"
branch_labels = None
depends_on = None

# ``protections.py`` keeps this body to refuse a database whose procedure was rewritten; a
# change to it changes both. ``CALL`` returns one row: whether it stored, and the head after it.
_APPEND = """CREATE PROCEDURE mesoscreen_audit_append(
    entries json, clinics json, expected_seq integer, expected_hash varchar,
    new_seq integer, new_hash varchar,
    INOUT stored boolean, INOUT head_seq integer, INOUT head_hash varchar
) LANGUAGE plpgsql AS $$
BEGIN
  stored := false;
  SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_head has no row: the schema is not migrated';
  END IF;
  IF head_seq IS DISTINCT FROM expected_seq OR head_hash IS DISTINCT FROM expected_hash THEN
    RETURN;
  END IF;
  INSERT INTO audit_log SELECT * FROM json_populate_recordset(NULL::audit_log, entries);
  INSERT INTO audit_entry_clinics (seq, clinic_id)
    SELECT seq, clinic_id FROM json_populate_recordset(NULL::audit_entry_clinics, clinics);
  UPDATE audit_head SET seq = new_seq, hash = new_hash WHERE id = 1;
  stored := true;
  head_seq := new_seq;
  head_hash := new_hash;
END $$"""


def upgrade() -> None:
    """Add the append procedure that checks the head under its lock. Migration 0011's, with
    four arguments, stays: a server not yet upgraded, sharing the database, still locks the
    head first and calls it, and both take the same row lock."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND)


def downgrade() -> None:
    """Drop the procedure this migration added (0011's stays)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP PROCEDURE IF EXISTS mesoscreen_audit_append("
            "json, json, integer, varchar, integer, varchar, boolean, integer, varchar)"
        )
