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

revision = "0011_i22_audit_append"
down_revision = "0010_i21_records2"
branch_labels = None
depends_on = None

# ``SELECT *`` from the table's own row type: the columns are the table's, in its order, and
# each row (``audit_row``) fills every one of them. ``protections.py`` keeps this body to
# refuse a database whose procedure was rewritten; a change to it changes both.
# A procedure, not a function: ``CALL`` returns no row, so the driver has nothing to describe.
_APPEND = """CREATE PROCEDURE mesoscreen_audit_append(
    entries json, clinics json, new_seq integer, new_hash varchar
) LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_log SELECT * FROM json_populate_recordset(NULL::audit_log, entries);
  INSERT INTO audit_entry_clinics (seq, clinic_id)
    SELECT seq, clinic_id FROM json_populate_recordset(NULL::audit_entry_clinics, clinics);
  UPDATE audit_head SET seq = new_seq, hash = new_hash WHERE id = 1;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_head has no row: the schema is not migrated';
  END IF;
END $$"""


def upgrade() -> None:
    """Add the append procedure on PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND)


def downgrade() -> None:
    """Drop the append procedure."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP PROCEDURE IF EXISTS mesoscreen_audit_append(json, json, integer, varchar)")
