"""Alembic environment: runs migrations on the connection ``upgrade_database`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from mesoscreen.adapters.db.tables import metadata


def _run_on(connection: Connection) -> None:
    """Configure the context for ``connection`` and run the pending migrations."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through mesoscreen.adapters.db.migrations")
_run_on(connection)
