"""Run the Alembic migrations programmatically: ``upgrade_database(url)`` and friends."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from mesoscreen.adapters.db.engine import create_database_engine, is_sqlite

SCRIPT_LOCATION = Path(__file__).parent / "alembic"

# Key of the PostgreSQL advisory lock that queues servers migrating one database at once.
_MIGRATION_LOCK_KEY = 0x6D65736F  # "meso"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


def _run(engine: Engine, action: str, revision: str) -> None:
    """Run one Alembic command in a single transaction on ``engine``."""
    config = alembic_config()
    with engine.begin() as connection:
        if not is_sqlite(str(engine.url)):
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        if action == "upgrade":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)


def upgrade_database(url: str, revision: str = "head") -> None:
    """Create or upgrade the schema at ``url`` to ``revision`` (safe to run from many servers)."""
    engine = create_database_engine(url)
    try:
        _run(engine, "upgrade", revision)
    finally:
        engine.dispose()


def downgrade_database(url: str, revision: str) -> None:
    """Take the schema at ``url`` back to ``revision`` (``base`` removes it)."""
    engine = create_database_engine(url)
    try:
        _run(engine, "downgrade", revision)
    finally:
        engine.dispose()
