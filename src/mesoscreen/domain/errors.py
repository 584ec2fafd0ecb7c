"""The one error hierarchy of Mesoscreen; every error has a stable ``code``.

    MesoscreenError                 base; never raised itself
    ├── InputError                  bad data from a user or a system (exit 2, HTTP 4xx)
    │   ├── IntakeError             an intake field is unknown or of a bad value
    │   ├── PolicyError             a policy names an unknown conflict or reading
    │   ├── PlanError               a treatment plan cannot be made as asked
    │   ├── FhirInputError          a FHIR resource cannot be read as screening input
    │   ├── UnsupportedMediaError   an upload is not of a type we accept (HTTP 415)
    │   └── TooLargeError           an upload passes a size limit (HTTP 413)
    ├── KnowledgeBaseError          a knowledge file is broken (at load; names file and entry)
    ├── NotFoundError               a record does not exist or is not visible to the caller
    ├── ConflictError               a write clashes with stored state (stale or signed)
    │   └── ConsentRequiredError    a session would start without current, valid consent
    └── PermissionDeniedError       the caller's role does not allow the action

Messages name the thing, what was expected and what was received, and never carry
patient data beyond the field name: they are safe to show and to log. ``problems`` say the
same as reason codes (``domain.reasons``), which the edges turn into words or send as they are.
"""

from __future__ import annotations

from mesoscreen.domain.reasons import Problem, class_problem


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


class UnsupportedMediaError(InputError):
    """Raised when an upload is not of an accepted type, judged by its content."""

    code = "unsupported_media_type"


class TooLargeError(InputError):
    """Raised when an upload is larger in bytes than the configured limit."""

    code = "too_large"


class KnowledgeBaseError(MesoscreenError):
    """Raised at load when a knowledge file is broken; names the file, the entry and the fault."""

    code = "invalid_knowledge_base"

    def __init__(self, file: str, entry: str, problem: str) -> None:
        super().__init__(f"knowledge base {file}, entry '{entry}': {problem}")
        self.file = file
        self.entry = entry
        self.problem = problem


class NotFoundError(MesoscreenError):
    """Raised when a record does not exist or belongs to a clinic the caller cannot see."""

    code = "not_found"


class ConflictError(MesoscreenError):
    """Raised when a write clashes with stored state: a stale version or a signed record."""

    code = "conflict"


class ConsentRequiredError(ConflictError):
    """Raised when a session would start without a countersigned, current, unwithdrawn consent."""

    code = "consent_required"


class DuplicateRequestError(ConflictError):
    """Raised when another request with the same idempotency key committed first."""

    code = "duplicate_request"


class PermissionDeniedError(MesoscreenError):
    """Raised when the caller's role does not permit the action."""

    code = "forbidden"
