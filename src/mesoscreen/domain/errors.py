"""The one error hierarchy of Mesoscreen; every error has a stable ``code``.

Every exception Mesoscreen defines is here, under ``MesoscreenError``. How each one is
shown at an edge (HTTP status and problem type, FHIR issue code, command-line exit code)
is decided once, in ``mesoscreen.entrypoints.error_table``; a test walks this tree, the
classes and that table together (``tests/unit/test_error_tree.py``).

    MesoscreenError                     base; never raised itself
    ├── InputError                      bad data from a user or a system
    │   ├── IntakeError                 an intake field is unknown or of a bad value
    │   ├── PolicyError                 a policy names an unknown conflict or reading
    │   ├── PlanError                   a treatment plan cannot be made as asked
    │   ├── FhirInputError              a FHIR resource cannot be read as screening input
    │   ├── HookRequestError            a CDS Hooks request is malformed
    │   ├── UnsupportedMediaError       an upload is not of a type we accept
    │   ├── TooLargeError               an upload passes a size limit
    │   │   └── BodyTooLargeError       a request body passes the edge's size limit
    │   ├── WeakPasswordError           a new password is too short, too long or too common
    │   ├── PreconditionRequiredError   an edit of a versioned record lacks If-Match
    │   └── UnstorableValueError        text no database stores (NUL, lone surrogate) or a
    │                                   paging number outside 0..2^31-1
    ├── AuthenticationError             credentials or a session are missing or wrong
    │   ├── SignInRequiredError         a page needs a live session (the browser is sent to sign in)
    │   └── TokenRejectedError          a CDS client's bearer token is missing or not acceptable
    ├── TooManyAttemptsError            sign-ins for a username are slowed down or locked
    ├── PermissionDeniedError           the caller's role does not allow the action
    │   └── CsrfError                   a cookie-authenticated write lacks its CSRF token
    ├── NotFoundError                   a record does not exist or is not visible to the caller
    ├── ConflictError                   a write clashes with stored state
    │   ├── StaleVersionError           the write names a version that is no longer stored
    │   ├── ConsentRequiredError        a session would start without current, valid consent
    │   ├── DuplicateRequestError       another request with the same idempotency key won
    │   ├── UsernameUnavailableError    a new account's username is in use
    │   └── AuditLogAlteredError        the audit log is behind its last signed checkpoint
    ├── UnavailableError                something needed is not reachable now; try again
    │   ├── DatabaseUnavailableError    the database cannot be reached
    │   ├── DatabaseInUseError          a restore and a running server would share the database
    │   ├── RecordUnavailableError      neither CDS prefetch nor the FHIR server gave the record
    │   └── WorkerStoppedError          a bulk worker process died before it finished its part
    ├── ConfigurationError              a setting or an installed file is wrong; fix and restart
    │   ├── KnowledgeBaseError          a knowledge file is broken (names file and entry)
    │   ├── ConditionSyntaxError        a knowledge condition is malformed (before file and entry)
    │   ├── StorageSettingsError        the database does not take the settings durability needs
    │   ├── MissingProtectionsError     the database lacks some of its append-only triggers
    │   └── LogoError                   the clinic_logo setting names an unusable file
    └── InternalError                   a fault in Mesoscreen itself, never the user's doing
        ├── RuleFailedError             a rule raised while it was evaluated
        ├── MissingMessageError         a page reads a message its catalogue lacks
        └── UnsupportedConditionError   a condition form has no FHIRPath rendering

Messages name the thing, what was expected and what was received, and never carry
patient data beyond the field name: they are safe to show and to log. ``problems`` say the
same as reason codes (``domain.reasons``), which the edges turn into words or send as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesoscreen.domain.reasons import Problem, class_problem

if TYPE_CHECKING:
    from mesoscreen.domain.knowledge_base import Rule


class MesoscreenError(Exception):
    """Base of every error Mesoscreen raises on purpose."""

    code = "mesoscreen_error"

    def __init__(self, message: str, *, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self._problems = problems

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Why, as reason codes; the error's own code on its field when none was given."""
        return self._problems or (class_problem(type(self).__mro__, getattr(self, "field", None)),)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled as it is, whatever its class's arguments: an error raised in a bulk worker
        # process reaches the parent whole (``cls(*args)`` failed for every error whose
        # constructor takes other arguments than its message, and the pool then took the
        # worker for dead).
        return (_rebuilt, (type(self), self.args), self.__dict__)


def _rebuilt(kind: type[MesoscreenError], args: tuple[object, ...]) -> MesoscreenError:
    """An error of class ``kind`` with ``args``, not yet given its attributes (unpickling)."""
    error = kind.__new__(kind)
    error.args = args
    return error


# Bad input.


class InputError(MesoscreenError):
    """Raised when input from a user or another system is invalid."""

    code = "invalid_input"


class IntakeError(InputError):
    """Raised when an intake has an unknown key or a value of the wrong form."""

    code = "invalid_intake"

    def __init__(self, field: str, problem: str, *, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(f"intake field '{field}': {problem}", problems=problems)
        self.field = field
        self.problem = problem


class PolicyError(InputError):
    """Raised when a clinic policy names a conflict or reading the knowledge base lacks."""

    code = "invalid_policy"


class PlanError(InputError):
    """Raised when a treatment plan cannot be made as asked (unknown zone, over a cap, ...).

    ``field`` names the refused field of the request or plan when there is one
    (``'depth_mm'``, ``'total_dose'``, ``'screening'``), so an edge can point at it.
    """

    code = "invalid_plan"

    def __init__(
        self, message: str, field: str | None = None, *, problems: tuple[Problem, ...] = ()
    ) -> None:
        super().__init__(message, problems=problems)
        self.field = field


class FhirInputError(InputError):
    """Raised when FHIR input cannot be read as screening input.

    ``field`` names the refused element when the edge can point at it
    (``'Bundle.entry[2].resource.subject.reference'``).
    """

    code = "invalid_fhir"

    def __init__(
        self, message: str, field: str | None = None, *, problems: tuple[Problem, ...] = ()
    ) -> None:
        super().__init__(message, problems=problems)
        self.field = field


class HookRequestError(InputError):
    """Raised when a CDS Hooks request is malformed; the message names the field."""

    code = "invalid_hook_request"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        # The body unreadable as JSON and a bad feedback list keep codes of their own.
        if code is not None:
            self.code = code


class UnsupportedMediaError(InputError):
    """Raised when an upload is not of an accepted type, judged by its content."""

    code = "unsupported_media_type"


class TooLargeError(InputError):
    """Raised when an upload is larger in bytes than the configured limit."""

    code = "too_large"


class BodyTooLargeError(TooLargeError):
    """Raised while the edge buffers a request body that passes its size limit."""

    code = "body_too_large"

    def __init__(self, message: str = "request body: larger than the limit") -> None:
        super().__init__(message)


class WeakPasswordError(InputError):
    """Raised when a new password is too short, too long or too common."""

    code = "weak_password"


class PreconditionRequiredError(InputError):
    """Raised when an edit of a versioned record comes without an If-Match header."""

    code = "if_match_required"


class UnstorableValueError(InputError):
    """Raised at an edge for text a database cannot store or a paging number out of range.

    ``field`` names the value (``'family_name'``, ``'answers.allergens[0]'``, ``'offset'``);
    the message never quotes the text itself.
    """

    code = "unstorable_value"

    def __init__(self, field: str, problem: str) -> None:
        field = field if len(field) <= 120 else f"{field[:120]}…"
        super().__init__(f"'{field}': {problem}")
        self.field = field
        self.problem = problem


# Who is asking.


class AuthenticationError(MesoscreenError):
    """Raised when credentials or a session token are missing, wrong, expired or ended."""

    code = "unauthenticated"


class SignInRequiredError(AuthenticationError):
    """Raised when a page needs a live session; the page sends the browser to sign in."""

    code = "sign_in_required"

    def __init__(self, message: str = "sign-in: no live session") -> None:
        super().__init__(message)


class TokenRejectedError(AuthenticationError):
    """Raised when a CDS client's token is missing or not acceptable; the message says why."""

    code = "unauthorized"


class TooManyAttemptsError(MesoscreenError):
    """Raised when sign-ins for a username are slowed down or locked after failures."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_seconds: int | None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class PermissionDeniedError(MesoscreenError):
    """Raised when the caller's role does not permit the action."""

    code = "forbidden"


class CsrfError(PermissionDeniedError):
    """Raised when a cookie-authenticated write lacks the session's CSRF token."""

    code = "csrf_failed"


# Stored state.


class NotFoundError(MesoscreenError):
    """Raised when a record does not exist or belongs to a clinic the caller cannot see."""

    code = "not_found"


class ConflictError(MesoscreenError):
    """Raised when a write clashes with stored state: a stale version or a signed record."""

    code = "conflict"


class StaleVersionError(ConflictError):
    """Raised when a write names a version that is no longer the stored one."""

    code = "stale_version"


class ConsentRequiredError(ConflictError):
    """Raised when a session would start without a countersigned, current, unwithdrawn consent."""

    code = "consent_required"


class DuplicateRequestError(ConflictError):
    """Raised when another request with the same idempotency key committed first."""

    code = "duplicate_request"


class UsernameUnavailableError(ConflictError):
    """Raised when a new account's username is in use anywhere in the group.

    Sign-in names are unique across every clinic, so the refusal cannot be avoided; its
    message is the same wherever the name is used and names neither the account nor its
    clinic.
    """

    code = "username_unavailable"

    def __init__(self) -> None:
        super().__init__("username: not available; choose another")


class AuditLogAlteredError(ConflictError):
    """Raised when the audit log is behind its last signed checkpoint (entries were removed)."""

    code = "audit_log_altered"


# Things out of reach for now.


class UnavailableError(MesoscreenError):
    """Raised when something the work needs cannot be reached now; the same call may succeed
    later."""

    code = "unavailable"


class DatabaseUnavailableError(UnavailableError):
    """Raised when the database cannot be reached (refused, dropped, timed out, locked)."""

    code = "database_unavailable"


class DatabaseInUseError(UnavailableError):
    """Raised when a restore and a running server would use the embedded database at once."""

    code = "database_in_use"


class RecordUnavailableError(UnavailableError):
    """Raised when neither CDS prefetch nor the FHIR server gave the data; says which."""

    code = "record_unavailable"


class WorkerStoppedError(UnavailableError):
    """Raised when a bulk worker process died (killed by the system, for lack of memory, say)
    before the run finished; the run stops at the first part of the input not finished."""

    code = "worker_stopped"

    def __init__(self) -> None:
        super().__init__(
            "a worker process stopped before the run finished (killed, for instance for lack"
            " of memory); the output holds the decisions of the input's first lines only, in"
            " order. Run again, with fewer workers or more memory"
        )


# The installation.


class ConfigurationError(MesoscreenError):
    """Raised when a setting or an installed file is wrong; nothing works until it is fixed."""

    code = "configuration"


class KnowledgeBaseError(ConfigurationError):
    """Raised at load when a knowledge file is broken; names the file, the entry and the fault."""

    code = "invalid_knowledge_base"

    def __init__(self, file: str, entry: str, problem: str) -> None:
        super().__init__(f"knowledge base {file}, entry '{entry}': {problem}")
        self.file = file
        self.entry = entry
        self.problem = problem


class ConditionSyntaxError(ConfigurationError):
    """Raised when a knowledge condition is malformed; the loader adds the file and entry."""

    code = "invalid_condition"


class StorageSettingsError(ConfigurationError):
    """Raised when the database URL or an SQLite connection cannot give the durability the
    records need (an in-memory database, a PRAGMA not taken)."""

    code = "storage_settings"


class MissingProtectionsError(ConfigurationError):
    """Raised when the database lacks some of its append-only triggers."""

    code = "missing_protections"


class LogoError(ConfigurationError):
    """Raised when the ``clinic_logo`` setting names a file that is not a small PNG or JPEG."""

    code = "invalid_logo"


# Faults.


class InternalError(MesoscreenError):
    """Raised for a fault in Mesoscreen itself: a bug, never the user's doing."""

    code = "internal_error"


class RuleFailedError(InternalError):
    """Raised when a rule raises while it is evaluated; the screener makes it an error finding."""

    code = "rule_failed"

    def __init__(self, rule: Rule, cause: Exception) -> None:
        super().__init__(f"rule '{rule.id}': raised {type(cause).__name__}")
        self.rule = rule
        self.cause = cause


class MissingMessageError(InternalError):
    """Raised when a page reads a message the catalogue does not have.

    Deliberately not a LookupError or AttributeError: Jinja turns those into an empty
    ``Undefined``, and a missing label must fail the page's test, not vanish from it.
    """

    code = "missing_message"


class UnsupportedConditionError(InternalError):
    """Raised for a condition form with no FHIRPath rendering (the item is then always shown)."""

    code = "unsupported_condition"
