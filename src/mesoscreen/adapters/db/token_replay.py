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
from mesoscreen.adapters.db.audit import append_entries
from mesoscreen.domain.audit import AuditEntry

# Expired token ids are swept on one call in this many (the sweep is idempotent).
SWEEP_EVERY = 64


class SqlTokenReplayGuard:
    """Records token ids; ``first_use`` is False for a token seen before."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record_call(
        self, issuer: str, jti: str, expires_at: datetime, now: datetime, entry: AuditEntry
    ) -> bool:
        """Record the token's first use and the call's audit entry in one transaction.

        False, and nothing written, if the token was used before.
        """
        table = tables.cds_token_uses
        try:
            with self._engine.begin() as connection:
                if hash(jti) % SWEEP_EVERY == 0:
                    connection.execute(delete(table).where(table.c.expires_at < now))
                connection.execute(
                    insert(table).values(issuer=issuer, jti=jti, expires_at=expires_at)
                )
                append_entries(connection, [entry])
        except IntegrityError:
            return False
        return True
