"""Errors as RFC 9457 problem details, never a traceback; a FHIR OperationOutcome instead
under /fhir and /cds-services, whose clients read FHIR ("a body that contains an
OperationOutcome" on every failure, FHIR R4 http.html).

Each problem carries a stable ``code`` and the request's correlation id; the
log gets the id and the error type only, because messages may name a field a
patient filled in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from mesoscreen.domain.errors import CsrfError as CsrfError
from mesoscreen.domain.errors import (
    DatabaseUnavailableError,
    FhirInputError,
    MesoscreenError,
    PlanError,
    TooManyAttemptsError,
    UnstorableValueError,
)
from mesoscreen.domain.errors import PreconditionRequiredError as PreconditionRequiredError
from mesoscreen.entrypoints.error_table import PROBLEM_TYPE_BASE, edges_for

_log = logging.getLogger("mesoscreen.api")

PROBLEM_JSON = "application/problem+json"
FHIR_JSON = "application/fhir+json"

TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict with the stored record",
    412: "The record changed since you read it",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "If-Match required",
    429: "Too many attempts",
    500: "Internal error",
    503: "Service unavailable",
}

# Codes the edge middleware also uses, so one refusal has one code however it is detected.
_HTTP_CODES = {413: "body_too_large", 415: "unsupported_media_type"}

# OperationOutcome.issue.code (R4 issue-type) of a status the framework answers by itself
# (an unknown route, a wrong method, an unreadable request); a Mesoscreen error takes its
# issue code from the error table instead.
_FHIR_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    428: "required",
    429: "throttled",
    503: "transient",
}
PROBLEM_SYSTEM = PROBLEM_TYPE_BASE.rstrip("/")
# Paths whose clients read FHIR: the REST base and the CDS services.
FHIR_PATH_PREFIXES = ("/fhir", "/cds-services")


def answers_in_fhir(path: str) -> bool:
    """Whether errors on ``path`` are OperationOutcomes (the /fhir base and the CDS services)."""
    return any(path == p or path.startswith(p + "/") for p in FHIR_PATH_PREFIXES)


def operation_outcome(
    status: int, code: str, detail: str, reference: str, issue_code: str | None = None
) -> dict[str, object]:
    """An OperationOutcome for an error: the R4 issue type of ``status`` (or ``issue_code``),
    the stable problem code as a coding, the message, and the correlation id."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error" if status < 500 else "fatal",
                "code": issue_code
                or _FHIR_CODES.get(status, "processing" if status < 500 else "exception"),
                "details": {"coding": [{"system": PROBLEM_SYSTEM, "code": code}], "text": detail},
                "diagnostics": f"{detail} (reference {reference})",
            }
        ],
    }


def status_for(error: MesoscreenError) -> int:
    """The HTTP status of a Mesoscreen error (from the error table)."""
    return edges_for(error).http_status


# Set by the edge middleware for each request.
correlation_id: ContextVar[str] = ContextVar("correlation_id", default="-")


def _correlation_id() -> str:
    return correlation_id.get()


def problem_response(
    status: int,
    code: str,
    detail: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    fhir_issue_code: str | None = None,
) -> JSONResponse:
    """A problem-details response (an OperationOutcome under /fhir and /cds-services, where
    ``extra`` is not sent and ``fhir_issue_code`` may name the issue type)."""
    reference = _correlation_id()
    if answers_in_fhir(path):
        outcome = operation_outcome(status, code, detail, reference, fhir_issue_code)
        return JSONResponse(outcome, status, headers=headers, media_type=FHIR_JSON)
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": f"urn:mesoscreen:request:{reference}",
        "correlation_id": reference,
    }
    body.update(extra or {})
    return JSONResponse(body, status, headers=headers, media_type=PROBLEM_JSON)


async def _mesoscreen_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, MesoscreenError)  # noqa: S101  # registered for this type only
    return error_response(error, request.url.path)


def error_response(
    error: MesoscreenError, path: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The problem details (or OperationOutcome) of ``error``, as the error table maps it."""
    edges = edges_for(error)
    status = edges.http_status
    sent = dict(headers or {})
    if status == 401:
        sent.setdefault("WWW-Authenticate", 'Bearer realm="mesoscreen"')
    if isinstance(error, TooManyAttemptsError) and error.retry_after_seconds:
        sent["Retry-After"] = str(error.retry_after_seconds)
    if edges.fault:
        # The type only: a fault's message may quote patient data.
        _log.error("error %s: %s", _correlation_id(), type(error).__name__)
        return problem_response(status, "internal_error", "internal error", path)
    # A refused plan or FHIR document names the refused field, so a client can point at it.
    named = PlanError | FhirInputError | UnstorableValueError
    field = error.field if isinstance(error, named) else None
    extra: dict[str, Any] = {"field": field} if field else {}
    # The reason codes behind the message, for clients that say them in their own words.
    extra["problems"] = [problem.as_dict() for problem in error.problems]
    return problem_response(
        status, error.code, error.message, path, sent, extra, fhir_issue_code=edges.fhir_issue
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)  # noqa: S101  # registered for this type only
    # Field locations and messages only: the rejected input may be patient data.
    errors = [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "msg": e.get("msg"),
            "type": e.get("type"),
        }
        for e in error.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid"}
    detail = f"{'.'.join(first['loc'])}: {first['msg']}"
    # FHIR answers a request it cannot read, search parameters included, with 400.
    status = 400 if answers_in_fhir(request.url.path) else 422
    return problem_response(
        status, "invalid_request", detail, request.url.path, extra={"errors": errors}
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)  # noqa: S101  # registered for this type only
    detail = error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code, "")
    code = _HTTP_CODES.get(error.status_code) or (
        TITLES.get(error.status_code, "error").lower().replace(" ", "_")
    )
    return problem_response(error.status_code, code, detail, request.url.path, error.headers)


DATABASE_RETRY_SECONDS = 5

# Machine clients: problem details (or an OperationOutcome); everything else is a page.
_MACHINE_PATHS = ("/api/", "/fhir", "/cds-services", "/health", "/openapi.json")

_UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Service unavailable</title></head>
<body><main>
<h1>Service unavailable</h1>
<p>The database cannot be reached. Try again in a few seconds.</p>
<p lang="vi">Không kết nối được cơ sở dữ liệu. Vui lòng thử lại sau vài giây.</p>
<p><small>Reference {reference}</small></p>
</main></body></html>
"""


async def _database_unavailable(request: Request, error: Exception) -> JSONResponse | HTMLResponse:
    # Connection-level failures (refused, dropped, timed out, SQLite locked past its busy
    # timeout): the service stays up and says so; the engine's pre-ping reconnects once the
    # database is back. A write cut off at its commit may or may not have been saved, so the
    # message promises nothing either way (creates are safe to retry with an Idempotency-Key).
    _log.warning("database unavailable %s: %s", _correlation_id(), type(error).__name__)
    headers = {"Retry-After": str(DATABASE_RETRY_SECONDS)}
    path = request.url.path
    unavailable = DatabaseUnavailableError("the database cannot be reached; try again shortly")
    if not path.startswith(_MACHINE_PATHS) and "text/html" in request.headers.get("accept", ""):
        page = _UNAVAILABLE_PAGE.format(reference=_correlation_id())
        return HTMLResponse(page, edges_for(unavailable).page, headers=headers)
    return error_response(unavailable, path, headers)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # The exception type only: its message may quote patient data.
    _log.error("internal error %s: %s", _correlation_id(), type(error).__name__)
    return problem_response(500, "internal_error", "internal error", request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error of ``app`` through problem details."""
    app.add_exception_handler(MesoscreenError, _mesoscreen_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
