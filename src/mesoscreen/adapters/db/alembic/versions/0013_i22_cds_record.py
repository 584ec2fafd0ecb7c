"""PostgreSQL: a batch of CDS calls recorded in one call, outside a transaction block.

``mesoscreen_cds_record(uses, entries, clinics, expected_seq, expected_hash, new_seq,
new_hash, recorded, head_seq, head_hash)`` stores the batch's token uses, then appends their
audit entries through ``mesoscreen_audit_append`` (migration 0012: the head locked, checked
against the one the entries were chained after, the entries stored and the head moved). It
stores everything or nothing: a token already used raises ``MS001``, a head that is not the
expected one raises ``MS002`` with the head found in the error's detail (``<seq> <hash>``);
either way nothing of the call stays. So the recorder sends it alone, in autocommit: one
round trip for a batch whose tokens are new and whose process knows the head, where a
transaction of its own costs four (``BEGIN``, the uses with the head's lock, the append,
``COMMIT``); on ``MS001`` or a second ``MS002`` it records the batch as before. The uses are
inserted before the head is locked; the recorder sends them in the order of their key, and
the transaction's statement inserts them all before it locks the head too, so two batches
never wait for each other in opposite orders. SQLite is unchanged.

Revision ID: 0013_i22_cds_record
Revises: 0012_i22_audit_append_checked
Create Date: 2026-12-07 05:50:00
"""

from __future__ import annotations

from alembic import op

from mesoscreen.adapters.db.procedures import CDS_RECORD_0013

revision = "0013_i22_cds_record"
down_revision = "0012_i22_audit_append_checked"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the CDS batch procedure on PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CDS_RECORD_0013.create())


def downgrade() -> None:
    """Drop the CDS batch procedure."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CDS_RECORD_0013.drop())
