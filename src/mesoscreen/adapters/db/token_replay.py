"""CDS Hooks token replay protection in the shared database.

A token's ``jti`` is recorded on first use until the token expires; a second use finds the
row and is refused. The primary key makes the check-and-record one atomic insert, so several
server processes sharing PostgreSQL agree, and nothing that matters lives in process memory.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from mesoscreen.adapters.db import tables


class SqlTokenReplayGuard:
    """Records token ids; ``first_use`` is False for a token seen before."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def first_use(self, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        """Record (issuer, jti) until ``expires_at``; False if it was already recorded."""
        table = tables.cds_token_uses
        try:
            with self._engine.begin() as connection:
                connection.execute(delete(table).where(table.c.expires_at < now))
                connection.execute(
                    insert(table).values(issuer=issuer, jti=jti, expires_at=expires_at)
                )
        except IntegrityError:
            return False
        return True
