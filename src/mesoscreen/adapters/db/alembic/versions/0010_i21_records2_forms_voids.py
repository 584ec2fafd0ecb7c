"""One-use form keys, and voids that are never changed or deleted.

- ``form_keys``: the key a web form that creates a record carries, stored with the record it
  made, one row per (clinic, form, key). The primary key makes a second or concurrent
  submission of the same form fail atomically on SQLite and PostgreSQL, so it shows the
  first result instead of making a duplicate.
- ``record_voids`` becomes append-only like the audit log and the countersigned consents: the
  database refuses to change or delete a void.

Revision ID: 0010_i21_records2
Revises: 0009_i21_records
Create Date: 2026-12-06 02:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_i21_records2"
down_revision = "0009_i21_records"
branch_labels = None
depends_on = None

_TABLE = "record_voids"


def _protect() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"""CREATE TRIGGER {_TABLE}_refuse_update BEFORE UPDATE ON {_TABLE}
            BEGIN SELECT RAISE(ABORT, '{_TABLE}: a void is never changed'); END"""
        )
        op.execute(
            f"""CREATE TRIGGER {_TABLE}_refuse_delete BEFORE DELETE ON {_TABLE}
            BEGIN SELECT RAISE(ABORT, '{_TABLE}: records are never deleted'); END"""
        )
        return
    op.execute(
        f"""CREATE FUNCTION mesoscreen_{_TABLE}_refuse() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '{_TABLE}: a void is never changed (% refused)', TG_OP;
        END $$"""
    )
    op.execute(
        f"""CREATE TRIGGER {_TABLE}_refuse_change BEFORE UPDATE OR DELETE ON {_TABLE}
        FOR EACH ROW EXECUTE FUNCTION mesoscreen_{_TABLE}_refuse()"""
    )
    op.execute(
        f"""CREATE TRIGGER {_TABLE}_refuse_truncate BEFORE TRUNCATE ON {_TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION mesoscreen_{_TABLE}_refuse()"""
    )


def _unprotect() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_refuse_update")
        op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_refuse_delete")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_refuse_truncate ON {_TABLE}")
    op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_refuse_change ON {_TABLE}")
    op.execute(f"DROP FUNCTION IF EXISTS mesoscreen_{_TABLE}_refuse()")


def upgrade() -> None:
    """Add the form keys and protect the voids."""
    op.create_table(
        "form_keys",
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("form", sa.String(length=60), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_form_keys_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("clinic_id", "form", "key", name=op.f("pk_form_keys")),
    )
    _protect()


def downgrade() -> None:
    """Drop them again."""
    _unprotect()
    op.drop_table("form_keys")
