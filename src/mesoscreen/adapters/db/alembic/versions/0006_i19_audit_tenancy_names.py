"""Audit entries' clinics, a chain head that only moves forward, and names searched folded.

- ``audit_entry_clinics``: the further clinics an audit entry concerns (a sign-in concerns
  every clinic of the user), append-only like the log; an index on ``audit_log.clinic_id``
  for the readers' filter.
- ``audit_head`` refuses to be deleted or moved back, or to name a hash the log does not hold.
- ``patients.name_search_key``: family and given name folded (case, accents, tone marks, đ);
  existing names are put in NFC and keyed here. A change to the folding needs a migration
  that keys the rows again.

Revision ID: 0006_i19_audit
Revises: 0005
Create Date: 2026-11-26 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mesoscreen.domain.names import name_search_key, normalise_name

revision = "0006_i19_audit"
down_revision = "0005"
branch_labels = None
depends_on = None

_SQLITE = [
    """CREATE TRIGGER audit_entry_clinics_refuse_update BEFORE UPDATE ON audit_entry_clinics
    BEGIN SELECT RAISE(ABORT, 'audit_entry_clinics is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_entry_clinics_refuse_delete BEFORE DELETE ON audit_entry_clinics
    BEGIN SELECT RAISE(ABORT, 'audit_entry_clinics is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_head_refuse_rewind BEFORE UPDATE ON audit_head
    WHEN NEW.seq < OLD.seq OR NEW.hash IS NOT (SELECT hash FROM audit_log WHERE seq = NEW.seq)
    BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward to a stored entry'); END""",
    """CREATE TRIGGER audit_head_refuse_delete BEFORE DELETE ON audit_head
    BEGIN SELECT RAISE(ABORT, 'audit_head is never deleted'); END""",
]

_POSTGRES = [
    """CREATE FUNCTION mesoscreen_audit_entry_clinics_refuse() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_entry_clinics is append-only: % refused', TG_OP; END $$""",
    """CREATE TRIGGER audit_entry_clinics_refuse_change
    BEFORE UPDATE OR DELETE ON audit_entry_clinics
    FOR EACH ROW EXECUTE FUNCTION mesoscreen_audit_entry_clinics_refuse()""",
    """CREATE TRIGGER audit_entry_clinics_refuse_truncate BEFORE TRUNCATE ON audit_entry_clinics
    FOR EACH STATEMENT EXECUTE FUNCTION mesoscreen_audit_entry_clinics_refuse()""",
    """CREATE FUNCTION mesoscreen_audit_head_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF NEW.seq >= OLD.seq
           AND NEW.hash = (SELECT hash FROM audit_log WHERE seq = NEW.seq) THEN
          RETURN NEW;
        END IF;
      END IF;
      RAISE EXCEPTION 'audit_head only moves forward to a stored entry (% refused)', TG_OP;
    END $$""",
    """CREATE TRIGGER audit_head_refuse_rewind BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION mesoscreen_audit_head_refuse()""",
    """CREATE TRIGGER audit_head_refuse_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION mesoscreen_audit_head_refuse()""",
]


def _key_existing_names() -> None:
    """Names in NFC and their search keys, for the patients registered before this revision."""
    connection = op.get_bind()
    patients = sa.table(
        "patients",
        sa.column("id", sa.String),
        sa.column("family_name", sa.String),
        sa.column("given_name", sa.String),
        sa.column("name_search_key", sa.Text),
    )
    rows = connection.execute(
        sa.select(patients.c.id, patients.c.family_name, patients.c.given_name)
    ).all()
    for patient_id, family, given in rows:
        family, given = normalise_name(family), normalise_name(given)
        connection.execute(
            sa.update(patients)
            .where(patients.c.id == patient_id)
            .values(
                family_name=family,
                given_name=given,
                name_search_key=name_search_key(f"{family} {given}"),
            )
        )


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "audit_entry_clinics",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("seq", "clinic_id", name=op.f("pk_audit_entry_clinics")),
    )
    op.create_index(op.f("ix_audit_entry_clinics_clinic_id"), "audit_entry_clinics", ["clinic_id"])
    op.create_index(op.f("ix_audit_log_clinic_id"), "audit_log", ["clinic_id"])
    op.add_column(
        "patients",
        sa.Column("name_search_key", sa.Text(), nullable=False, server_default=""),
    )
    _key_existing_names()
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("audit_head_refuse_rewind", "audit_head_refuse_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_head_refuse_rewind ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_head_refuse_truncate ON audit_head")
        op.execute("DROP FUNCTION IF EXISTS mesoscreen_audit_head_refuse()")
    op.drop_column("patients", "name_search_key")
    op.drop_index(op.f("ix_audit_log_clinic_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_entry_clinics_clinic_id"), table_name="audit_entry_clinics")
    op.drop_table("audit_entry_clinics")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS mesoscreen_audit_entry_clinics_refuse()")
