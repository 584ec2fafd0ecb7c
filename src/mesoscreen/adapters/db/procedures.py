"""The PL/pgSQL procedures the migrations create, each exactly as its migration created it.

A migration is a frozen record of what it made, so a procedure here is never edited: a new
version is a new constant beside the old one, created by a new migration. The migrations
create and drop them from here, and ``protections.py`` accepts a procedure of one of these
names only when its arguments and body are those of one of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Procedure:
    """A procedure as a migration created it: its name, its arguments as declared (``name
    type`` or ``INOUT name type``), and its body (what PostgreSQL keeps as ``prosrc``)."""

    name: str
    arguments: tuple[str, ...]
    body: str

    @property
    def argument_names(self) -> tuple[str, ...]:
        """The arguments' names, in order (``pg_proc.proargnames``)."""
        return tuple(argument.split()[-2] for argument in self.arguments)

    def create(self) -> str:
        """The statement that creates it."""
        arguments = ",\n    ".join(self.arguments)
        return (
            f"CREATE PROCEDURE {self.name}(\n    {arguments}\n) LANGUAGE plpgsql "
            f"AS $${self.body} $$"
        )

    def drop(self) -> str:
        """The statement that drops it (this one alone, by its argument types)."""
        types = ", ".join(argument.split()[-1] for argument in self.arguments)
        return f"DROP PROCEDURE IF EXISTS {self.name}({types})"


AUDIT_APPEND = "mesoscreen_audit_append"
CDS_RECORD = "mesoscreen_cds_record"

#: Migration 0011: a batch's audit entries, their other clinics and the new head, stored by
#: commands of their own in order, so the head's trigger sees the entries the head names. The
#: caller locks the head first. ``SELECT *`` from the table's own row type: the columns are
#: the table's, in its order, and each row (``audit.audit_row``) fills every one of them.
AUDIT_APPEND_0011 = Procedure(
    AUDIT_APPEND,
    ("entries json", "clinics json", "new_seq integer", "new_hash varchar"),
    """
BEGIN
  INSERT INTO audit_log SELECT * FROM json_populate_recordset(NULL::audit_log, entries);
  INSERT INTO audit_entry_clinics (seq, clinic_id)
    SELECT seq, clinic_id FROM json_populate_recordset(NULL::audit_entry_clinics, clinics);
  UPDATE audit_head SET seq = new_seq, hash = new_hash WHERE id = 1;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_head has no row: the schema is not migrated';
  END IF;
END""",
)

#: Migration 0012: the same, with the head locked here and checked against the one the
#: entries were chained after; another head stores nothing and is answered, its lock kept.
AUDIT_APPEND_0012 = Procedure(
    AUDIT_APPEND,
    ("entries json", "clinics json", "expected_seq integer", "expected_hash varchar",
     "new_seq integer", "new_hash varchar", "INOUT stored boolean", "INOUT head_seq integer",
     "INOUT head_hash varchar"),
    """
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
END""",
)  # fmt: skip

#: Migration 0013: a CDS batch's token uses, then its append (0012's), all or nothing: a token
#: used before raises MS001, another head MS002 with the head found as its detail.
CDS_RECORD_0013 = Procedure(
    CDS_RECORD,
    ("uses json", "entries json", "clinics json", "expected_seq integer",
     "expected_hash varchar", "new_seq integer", "new_hash varchar", "INOUT recorded boolean",
     "INOUT head_seq integer", "INOUT head_hash varchar"),
    """
DECLARE
  inserted integer;
BEGIN
  INSERT INTO cds_token_uses (issuer, jti, expires_at)
    SELECT issuer, jti, expires_at FROM json_populate_recordset(NULL::cds_token_uses, uses)
    ON CONFLICT (issuer, jti) DO NOTHING;
  GET DIAGNOSTICS inserted = ROW_COUNT;
  IF inserted IS DISTINCT FROM json_array_length(uses) THEN
    RAISE EXCEPTION 'a token of the batch was used before' USING ERRCODE = 'MS001';
  END IF;
  CALL mesoscreen_audit_append(entries, clinics, expected_seq, expected_hash, new_seq,
                               new_hash, recorded, head_seq, head_hash);
  IF recorded IS NOT TRUE THEN
    RAISE EXCEPTION 'the audit head moved' USING ERRCODE = 'MS002',
      DETAIL = head_seq || ' ' || head_hash;
  END IF;
END""",
)  # fmt: skip

#: Every procedure a migration has created, old versions included.
MIGRATED = (AUDIT_APPEND_0011, AUDIT_APPEND_0012, CDS_RECORD_0013)
