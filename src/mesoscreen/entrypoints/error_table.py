"""How every Mesoscreen error shows at every edge, decided once.

Each row maps an error class of ``mesoscreen.domain.errors`` to its HTTP status (the problem
type is ``PROBLEM_TYPE_BASE`` + the error's ``code``), the status a page answers with, the
FHIR R4 ``OperationOutcome.issue.code`` (issue-type value set) and the command line's exit
code (sysexits.h). An error without a row of its own takes the row of its nearest ancestor
(``edges_for`` walks the class's MRO), so a new error is mapped the moment it is placed in
the tree. The API's problem handlers, the /fhir OperationOutcomes, the CDS services, the
pages and the CLI all read this table; ``tests/unit/test_error_tree.py`` checks it against
the tree drawn in ``domain/errors.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mesoscreen.domain import errors as e
from mesoscreen.entrypoints import exit_codes

PROBLEM_TYPE_BASE = "https://mesoscreen.org/problems/"


@dataclass(frozen=True, slots=True)
class ErrorEdges:
    """One error's face at each edge: HTTP status, page status, FHIR issue code, exit code."""

    http_status: int
    fhir_issue: str
    exit_code: int
    # Pages answer a refused form with 400 and a stale edit with 409 (the browser re-shows
    # the form); None means the page answers as the API does.
    page_status: int | None = field(default=None)

    @property
    def page(self) -> int:
        """The status a page answers with."""
        return self.page_status if self.page_status is not None else self.http_status

    @property
    def fault(self) -> bool:
        """Whether the error is a server-side fault whose message is not shown to the caller."""
        return self.http_status >= 500 and self.http_status != 503


ERROR_TABLE: Mapping[type[e.MesoscreenError], ErrorEdges] = {
    # The root is never raised; an error placed under it alone would be a fault.
    e.MesoscreenError: ErrorEdges(500, "exception", exit_codes.INTERNAL_ERROR),
    e.InputError: ErrorEdges(422, "invalid", exit_codes.INVALID_INPUT, page_status=400),
    e.HookRequestError: ErrorEdges(400, "invalid", exit_codes.INVALID_INPUT, page_status=400),
    e.UnsupportedMediaError: ErrorEdges(
        415, "not-supported", exit_codes.INVALID_INPUT, page_status=400
    ),
    e.TooLargeError: ErrorEdges(413, "too-costly", exit_codes.INVALID_INPUT, page_status=400),
    e.PreconditionRequiredError: ErrorEdges(
        428, "required", exit_codes.INVALID_INPUT, page_status=400
    ),
    # Text no database stores, or a paging number past 2^31-1: 422 from the pages too.
    e.UnstorableValueError: ErrorEdges(422, "invalid", exit_codes.INVALID_INPUT),
    e.AuthenticationError: ErrorEdges(401, "login", exit_codes.NO_PERMISSION),
    e.TooManyAttemptsError: ErrorEdges(429, "throttled", exit_codes.TEMPORARY_FAILURE),
    e.PermissionDeniedError: ErrorEdges(403, "forbidden", exit_codes.NO_PERMISSION),
    e.NotFoundError: ErrorEdges(404, "not-found", exit_codes.NOT_FOUND),
    e.ConflictError: ErrorEdges(409, "conflict", exit_codes.CONFLICT),
    e.StaleVersionError: ErrorEdges(412, "conflict", exit_codes.CONFLICT, page_status=409),
    # `audit verify` found the log shortened: the check ran and failed, as for a broken chain.
    e.AuditLogAlteredError: ErrorEdges(409, "conflict", exit_codes.FAILED),
    e.UnavailableError: ErrorEdges(503, "transient", exit_codes.UNAVAILABLE),
    # A restore while a server runs: try again once the server is stopped.
    e.DatabaseInUseError: ErrorEdges(503, "transient", exit_codes.TEMPORARY_FAILURE),
    # The CDS Hooks specification answers missing prefetch with 412 (an incomplete record).
    e.RecordUnavailableError: ErrorEdges(412, "incomplete", exit_codes.UNAVAILABLE),
    e.ConfigurationError: ErrorEdges(500, "exception", exit_codes.CONFIGURATION),
    e.InternalError: ErrorEdges(500, "exception", exit_codes.INTERNAL_ERROR),
}


def edges_for(error: type[e.MesoscreenError] | e.MesoscreenError) -> ErrorEdges:
    """The row of ``error`` (a class or an instance): its own, or its nearest ancestor's."""
    kind = error if isinstance(error, type) else type(error)
    for ancestor in kind.__mro__:
        row = ERROR_TABLE.get(ancestor)
        if row is not None:
            return row
    raise TypeError(f"{kind.__name__} is not a MesoscreenError")  # pragma: no cover


def problem_type(error: e.MesoscreenError) -> str:
    """The RFC 9457 problem type URI of ``error``."""
    return PROBLEM_TYPE_BASE + error.code
