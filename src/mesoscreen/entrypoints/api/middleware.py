"""ASGI middleware at the edge: correlation ids, security headers, early refusal of bad bodies.

Every response leaves through here with the security headers, the last-resort 500
included: an error no handler caught is answered here (problem details, the correlation
id, no traceback) and logged as its type and stack frames only, never its message, which
may quote patient data. JSON bodies are read whole (they are capped at ``max_body_bytes``)
and refused before any route parses them when they are too large (413) or nested deeper
than ``MAX_JSON_DEPTH`` (400); a body of another media type sent to a JSON endpoint is a 415.
Every check before sign-in is linear in the body's size (``json_depth``), and the nesting check
of a body past ``THREADED_CHECK_BYTES`` runs in a worker thread (``HeavyWork``), so a hostile
body never holds the event loop.
Text no database stores (a NUL character, a lone surrogate: ``domain.text``) is refused here
for the machine routes, naming the field, before any route or sign-in reads it: in the path,
in the query string and anywhere in a JSON body (422). The pages check their own (``web.kit``).
Upload routes (photos) are named with their own, larger cap: their bodies are counted as they
stream in and refused past that cap, and they are not JSON; every other route keeps the cap.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import uuid
from collections.abc import Sequence
from urllib.parse import parse_qsl

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mesoscreen.domain.errors import BodyTooLargeError as BodyTooLargeError
from mesoscreen.domain.errors import UnstorableValueError
from mesoscreen.domain.text import require_storable, require_storable_values
from mesoscreen.entrypoints.api.json_depth import MAX_JSON_DEPTH, json_nesting_exceeds
from mesoscreen.entrypoints.api.problems import correlation_id, problem_response, status_for
from mesoscreen.entrypoints.heavy_work import HeavyWork

_log = logging.getLogger("mesoscreen.api")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
]

# The OpenAPI pages load their script and styles from a CDN and start them inline.
_DOCS_PATHS = ("/docs", "/redoc")
_DOCS_CSP = (
    b"default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; "
    b"style-src https://cdn.jsdelivr.net 'unsafe-inline'; img-src https: data:; "
    b"font-src https://fonts.gstatic.com; connect-src 'self'; worker-src blob:; "
    b"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

_JSON_PATHS = ("/api/", "/cds-services")
# Routes whose clients are programs: refusals are problems (or OperationOutcomes).
_MACHINE_PATHS = ("/api/", "/fhir", "/cds-services")
_WRITES = {"POST", "PUT", "PATCH"}

# Bodies up to this size are checked on the event loop (well under a millisecond); larger ones
# in a worker thread.
THREADED_CHECK_BYTES = 64 * 1024


def _media_type(headers: dict[bytes, bytes]) -> bytes:
    return headers.get(b"content-type", b"").split(b";")[0].strip().lower()


def _is_json(media: bytes) -> bool:
    return media == b"application/json" or media.endswith(b"+json")


def _has_body(headers: dict[bytes, bytes]) -> bool:
    length = headers.get(b"content-length")
    if length is not None:
        return length.strip() != b"0"
    return b"transfer-encoding" in headers


def _check_path_and_query(scope: Scope) -> None:
    """UnstorableValueError naming the path or the query parameter that holds unstorable text
    (a query string decodes as the routes decode it: ``%00`` is a NUL, bad UTF-8 a U+FFFD)."""
    require_storable(scope.get("path", ""), "path")
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        require_storable(name, "query parameter name")
        require_storable(value, name)


def check_json_text(body: bytes) -> None:
    """UnstorableValueError naming the first field of a JSON body whose text cannot be stored.

    Such text can only arrive as an escape (``\\u0000``, ``\\ud800``), since raw NUL bytes
    and invalid UTF-8 are not JSON; a body without ``\\u`` is not parsed at all. A body that
    is not JSON is left to the route, which refuses it.
    """
    if b"\\u" not in body and b"\x00" not in body:
        return
    if b"\x00" in body:
        raise UnstorableValueError("request body", "must not contain a NUL byte")
    try:
        value = json.loads(body)
    except ValueError:
        return
    require_storable_values(value)


def _is_json_write(scope: Scope) -> bool:
    """Whether the request is a write to an endpoint that takes JSON bodies."""
    return scope.get("method") in _WRITES and scope.get("path", "").startswith(_JSON_PATHS)


class EdgeMiddleware:
    """Tags each request with a correlation id, adds security headers, refuses bad bodies."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        uploads: Sequence[tuple[re.Pattern[str], int]] = (),
        heavy_work: HeavyWork | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.uploads = tuple(uploads)
        self.heavy_work = heavy_work or HeavyWork(threads=1)

    def _upload_cap(self, scope: Scope) -> int | None:
        """The cap of an upload route a POST is sent to; None for any other request."""
        if scope.get("method") != "POST":
            return None
        path = scope.get("path", "")
        return next((cap for pattern, cap in self.uploads if pattern.fullmatch(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request; other scopes pass through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reference = uuid.uuid4().hex
        correlation_id.set(reference)
        path = scope.get("path", "")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = self._with_security_headers(
                    list(message.get("headers", [])), path, reference
                )
            await send(message)

        try:
            await self._handle(scope, receive, send_with_headers)
        except Exception as error:
            # The type and the frames only: the message may quote what a patient typed.
            frames = "".join(traceback.format_tb(error.__traceback__))
            _log.error("internal error %s: %s\n%s", reference, type(error).__name__, frames)
            if not started:
                response = problem_response(500, "internal_error", "internal error", path)
                await response(scope, receive, send_with_headers)

    @staticmethod
    def _with_security_headers(
        headers: list[tuple[bytes, bytes]], path: str, reference: str
    ) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        for name, value in SECURITY_HEADERS:
            if name in present:
                continue
            if name == b"content-security-policy" and path.startswith(_DOCS_PATHS):
                value = _DOCS_CSP
            headers.append((name, value))
        headers.append((b"x-correlation-id", reference.encode()))
        return headers

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what can be refused from the headers and body; pass the rest on."""
        if scope.get("path", "").startswith(_MACHINE_PATHS):
            try:
                _check_path_and_query(scope)
            except UnstorableValueError as refused:
                await self._refuse_value(refused, scope, send)
                return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        upload_cap = self._upload_cap(scope)
        if upload_cap is not None:
            if declared is not None and declared.isdigit() and int(declared) > upload_cap:
                await self._refuse(413, "body_too_large", _too_large(upload_cap), scope, send)
                return
            await self.app(scope, self._counting(receive, upload_cap), send)
            return
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(413, "body_too_large", self._too_large_message(), scope, send)
            return
        json_write = _is_json_write(scope) and _has_body(headers)
        if json_write and not _is_json(_media_type(headers)):
            detail = "Content-Type: expected application/json (or a +json type) for this body"
            await self._refuse(415, "unsupported_media_type", detail, scope, send)
            return
        if json_write:
            try:
                body = await self._read_body(receive)
            except BodyTooLargeError:
                await self._refuse(413, "body_too_large", self._too_large_message(), scope, send)
                return
            if body is None:  # the client went away
                return
            if await self._nests_too_deep(body):
                detail = (
                    f"request body: JSON must nest at most {MAX_JSON_DEPTH} levels "
                    "of arrays and objects (got deeper)"
                )
                await self._refuse(400, "json_too_deep", detail, scope, send)
                return
            try:
                await self._check_text(body)
            except UnstorableValueError as refused:
                await self._refuse_value(refused, scope, send)
                return
            await self.app(scope, _replay(body, receive), send)
            return
        await self.app(scope, self._counting(receive, self.max_body_bytes), send)

    async def _nests_too_deep(self, body: bytes) -> bool:
        """The nesting check, in a worker thread for a large body so the loop stays free."""
        if len(body) <= THREADED_CHECK_BYTES:
            return json_nesting_exceeds(body)
        return await self.heavy_work.run(json_nesting_exceeds, body)

    async def _check_text(self, body: bytes) -> None:
        """The unstorable-text check, in a worker thread for a large body."""
        if len(body) <= THREADED_CHECK_BYTES:
            check_json_text(body)
        else:
            await self.heavy_work.run(check_json_text, body)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body; None if the client disconnected; BodyTooLargeError past the cap."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    def _counting(receive: Receive, cap: int) -> Receive:
        """``receive`` that raises a 413 once the body passes ``cap`` (forms, uploads)."""
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    # The route reading the body turns this into a 413 problem.
                    raise HTTPException(413, _too_large(cap))
            return message

        return counting_receive

    def _too_large_message(self) -> str:
        return _too_large(self.max_body_bytes)

    @classmethod
    async def _refuse_value(cls, refused: UnstorableValueError, scope: Scope, send: Send) -> None:
        """A 422 naming the field that holds an unstorable value."""
        await cls._refuse(status_for(refused), refused.code, refused.message, scope, send,
                          {"field": refused.field})  # fmt: skip

    @staticmethod
    async def _refuse(
        status: int,
        code: str,
        detail: str,
        scope: Scope,
        send: Send,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Answer with a problem without reading the body (the server discards the rest)."""
        response = problem_response(status, code, detail, scope.get("path", ""), extra=extra)
        await send({"type": "http.response.start", "status": status,
                    "headers": response.raw_headers})  # fmt: skip
        await send({"type": "http.response.body", "body": response.body})


def _too_large(cap: int) -> str:
    return f"request body: must be at most {cap} bytes"


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body over once, then waits on the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
