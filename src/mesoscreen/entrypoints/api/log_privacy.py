"""Keep patient data out of the server's logs.

An access log line names the route, never the request's own path: a patient search puts a
name in the query (``/patients?q=...``) and a careless client can put one in the path where
an id belongs (``/api/v1/patients/Nguyen``). So ``/api/v1/patients/3f2a...`` is logged as
``/api/v1/patients/{patient_id}``, a query string as ``?…``, and a path no route matches as
its first segment (when that is one of ours) and ``…``. Installed on uvicorn's access logger
by ``create_app``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import compile_path

ACCESS_LOGGER = "uvicorn.access"
_PATH_ARG = 2  # uvicorn's access record: (client, method, path with query, version, status)


def route_templates(routes: Iterable[Any], prefix: str = "") -> Iterator[str]:
    """The path template of every route, included routers and mounts followed."""
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's record of an included router
            yield from route_templates(
                route.original_router.routes, prefix + route.include_context.prefix
            )
        elif hasattr(route, "path_format"):
            yield prefix + route.path_format


class AccessLogRedactor(logging.Filter):
    """Rewrites the path of each access-log record to its route template, without the query."""

    def __init__(self) -> None:
        super().__init__()
        self._templates: list[tuple[re.Pattern[str], str]] = []
        self._first_segments: set[str] = set()

    def use_routes(self, templates: Iterable[str]) -> None:
        """Match paths against these route templates from now on."""
        compiled = []
        for template in dict.fromkeys(templates):
            regex, path_format, _ = compile_path(template)
            compiled.append((regex, path_format))
        self._templates = compiled
        self._first_segments = {t.split("/")[1] for t in templates if t.count("/") >= 1}

    def redact(self, path: str) -> str:
        """The route template ``path`` falls under (query string as ``?…``)."""
        bare, _, query = path.partition("?")
        suffix = "?…" if query else ""
        for regex, template in self._templates:
            if regex.match(bare):
                return template + suffix
        first = bare.split("/")[1] if bare.count("/") >= 1 else ""
        if bare == f"/{first}" and first in self._first_segments | {""}:
            return bare + suffix
        kept = f"/{first}/…" if first in self._first_segments else "/…"
        return kept + suffix

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument; always keep the record."""
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARG:
            path = args[_PATH_ARG]
            if isinstance(path, str):
                record.args = (*args[:_PATH_ARG], self.redact(path), *args[_PATH_ARG + 1 :])
        return True


def install_log_privacy(routes: Iterable[Any] = ()) -> AccessLogRedactor:
    """Add the redactor to the access logger once; match paths against ``routes`` (an app's)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    redactor = next((f for f in logger.filters if isinstance(f, AccessLogRedactor)), None)
    if redactor is None:
        redactor = AccessLogRedactor()
        logger.addFilter(redactor)
    templates = list(route_templates(routes))
    if templates:
        redactor.use_routes(templates)
    return redactor
