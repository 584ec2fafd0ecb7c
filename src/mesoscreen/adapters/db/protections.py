"""The database's own append-only protections, and a check that they are all in place.

The migrations make the database refuse to change or delete the audit log, its clinics, a
countersigned consent, a withdrawal, a photo's bytes or a void, and refuse to move the chain head
back. Whoever can drop or disable a trigger can then rewrite history, so ``serve`` refuses
to start, and ``restore`` refuses a copy, when one of them is missing, disabled, or no
longer refuses anything.

Each group of triggers is expected once the table its migration created exists, so a copy
made before a later migration is judged by the protections of its own time (the server
adds the later ones when it upgrades the copy on start).

On PostgreSQL the audit append is a procedure (migrations 0011 and 0012), and so is the CDS
batch record that calls it (0013); one rewritten to store nothing and leave the head where it
is would lose every entry without any trigger firing, so a procedure of those names that is
not one a migration created (its arguments with its body, in PL/pgSQL, run as its caller,
with no settings of its own such as a search_path) counts as a missing protection (one that
is missing makes every append fail, loudly).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from mesoscreen.adapters.db import procedures
from mesoscreen.domain.errors import MissingProtectionsError as MissingProtectionsError


@dataclass(frozen=True, slots=True)
class _Guard:
    """Triggers a migration created along with ``table``: (table they sit on, trigger name)."""

    table: str
    sqlite: tuple[tuple[str, str], ...]
    postgres: tuple[tuple[str, str], ...]


def _refusing(table: str, *verbs: str) -> tuple[tuple[str, str], ...]:
    return tuple((table, f"{table}_refuse_{verb}") for verb in verbs)


_GUARDS = (
    _Guard(
        "audit_log",
        _refusing("audit_log", "update", "delete"),
        _refusing("audit_log", "change", "truncate"),
    ),
    *(
        _Guard(table, _refusing(table, "update", "delete"), _refusing(table, "change"))
        for table in ("consents", "consent_withdrawals", "photo_contents")
    ),
    # The voids' triggers came with the form keys' migration (0010), after their table.
    _Guard(
        "form_keys",
        _refusing("record_voids", "update", "delete"),
        _refusing("record_voids", "change", "truncate"),
    ),
    _Guard(
        "audit_entry_clinics",
        _refusing("audit_entry_clinics", "update", "delete")
        + _refusing("audit_head", "rewind", "delete"),
        _refusing("audit_entry_clinics", "change", "truncate")
        + _refusing("audit_head", "rewind", "truncate"),
    ),
)


# Each procedure name: the (arguments' names, body) of each version a migration created,
# bodies compared with runs of white space made one space.
_PROCEDURES = {
    name: frozenset(
        (made.argument_names, " ".join(made.body.split()))
        for made in procedures.MIGRATED
        if made.name == name
    )
    for name in {made.name for made in procedures.MIGRATED}
}


def missing_in_sqlite(connection: sqlite3.Connection) -> list[str]:
    """The protections an SQLite database lacks (a trigger that raises nothing counts)."""
    tables = {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    triggers = {
        (row[0], row[1]): row[2] or ""
        for row in connection.execute(
            "SELECT tbl_name, name, sql FROM sqlite_master WHERE type='trigger'"
        )
    }
    return [
        name
        for guard in _GUARDS
        if guard.table in tables
        for table, name in guard.sqlite
        if "RAISE(ABORT" not in triggers.get((table, name), "").upper()
    ]


def _missing_in_postgres(connection: Connection) -> list[str]:
    # Triggers of the tables in the current schema that fire in normal operation ('O' origin,
    # 'A' always), with the source of the function they run.
    rows = connection.execute(
        text(
            "SELECT c.relname, t.tgname, t.tgenabled, p.prosrc FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
        )
    )
    live = {
        (table, name)
        for table, name, enabled, source in rows
        if enabled in ("O", "A") and "RAISE EXCEPTION" in source.upper()
    }
    tables = set(
        connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
    )
    missing = [
        name
        for guard in _GUARDS
        if guard.table in tables
        for table, name in guard.postgres
        if (table, name) not in live
    ]
    # Each procedure of those names: a migration's arguments with that migration's body, in
    # PL/pgSQL, with no settings of its own (a search_path could point it at other tables)
    # and run as its caller.
    procedures = connection.execute(
        text(
            "SELECT p.proname, p.proargnames, p.prosrc, p.proconfig IS NULL AND NOT p.prosecdef "
            "AND l.lanname = 'plpgsql' FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
            "WHERE p.proname = ANY(:names) AND p.pronamespace = current_schema()::regnamespace"
        ),
        {"names": sorted(_PROCEDURES)},
    )
    changed = {
        name
        for name, names, body, plain in procedures
        if not plain or (tuple(names or ()), " ".join(body.split())) not in _PROCEDURES[name]
    }
    missing.extend(f"{name} (changed)" for name in sorted(changed))
    return missing


def missing_protections(engine: Engine) -> list[str]:
    """The append-only triggers the database at ``engine`` lacks (none when all are live)."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            return missing_in_sqlite(raw.dbapi_connection)  # type: ignore[arg-type]
        finally:
            raw.close()
    with engine.connect() as connection:
        return _missing_in_postgres(connection)


def require_protections(engine: Engine, who: str) -> None:
    """MissingProtectionsError naming what is missing, unless every protection is live."""
    missing = missing_protections(engine)
    if missing:
        raise MissingProtectionsError(
            f"{who}: the database lacks its append-only protections ({', '.join(missing)}); "
            "refusing to run on a log that can be rewritten (check it with `mesoscreen audit "
            "verify --checkpoints`, then restore a good copy)"
        )
