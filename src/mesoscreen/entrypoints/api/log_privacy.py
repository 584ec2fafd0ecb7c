"""Keep patient data out of the server's logs.

Access log lines name the path but never the query string: a patient search puts a name in
the query (``/patients?q=...``). Installed on uvicorn's access logger by ``create_app``.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class QueryStringRedactor(logging.Filter):
    """Replaces every query string in an access-log record's arguments with ``?…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments; always keep the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.split("?", 1)[0] + "?…" if isinstance(arg, str) and "?" in arg else arg
                for arg in record.args
            )
        return True


def install_log_privacy() -> None:
    """Add the redactor to the access logger once."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, QueryStringRedactor) for f in logger.filters):
        logger.addFilter(QueryStringRedactor())
