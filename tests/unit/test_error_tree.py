"""One error tree, drawn in ``domain/errors.py``, and one table that maps it to every edge."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
import re

import pytest

import mesoscreen
from mesoscreen.domain import errors
from mesoscreen.domain.errors import MesoscreenError
from mesoscreen.entrypoints import exit_codes
from mesoscreen.entrypoints.error_table import ERROR_TABLE, edges_for

# Modules that run code when imported (a migration environment, optional engines).
_NOT_IMPORTABLE = ("mesoscreen.adapters.db.alembic", "mesoscreen.__main__")

# FHIR R4 issue-type codes (http://hl7.org/fhir/R4/valueset-issue-type.html).
ISSUE_TYPES = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
    "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate",
    "multiple-matches", "not-found", "deleted", "too-long", "code-invalid", "extension",
    "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
    "exception", "timeout", "incomplete", "throttled", "informational",
}  # fmt: skip

SYSEXITS = {
    exit_codes.FAILED,
    exit_codes.INVALID_INPUT,
    exit_codes.NOT_FOUND,
    exit_codes.UNAVAILABLE,
    exit_codes.INTERNAL_ERROR,
    exit_codes.CONFLICT,
    exit_codes.TEMPORARY_FAILURE,
    exit_codes.NO_PERMISSION,
    exit_codes.CONFIGURATION,
}


def _every_module() -> list[str]:
    names = []
    for module in pkgutil.walk_packages(mesoscreen.__path__, "mesoscreen."):
        if module.name.startswith(_NOT_IMPORTABLE):
            continue
        try:
            importlib.import_module(module.name)
        except ImportError as missing:  # an optional extra (Spark) that is not installed
            if missing.name and missing.name.split(".")[0] == "mesoscreen":
                raise
            continue
        names.append(module.name)
    return names


def _exceptions_defined_in_mesoscreen() -> list[type[BaseException]]:
    found = []
    for name in _every_module():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == name:
                found.append(value)
    return found


def _subclasses(root: type[MesoscreenError]) -> set[type[MesoscreenError]]:
    found = set()
    for child in root.__subclasses__():
        found |= {child, *_subclasses(child)}
    return found


def _drawn_tree() -> dict[str, str | None]:
    """Each class named in the docstring's drawing, with the class drawn as its parent."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^[\s│├└─]*([A-Z]\w*Error)\b", line)
        if not match or not ("──" in line or line.strip().startswith("MesoscreenError")):
            continue
        depth = match.start(1)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(1)] = stack[-1][1] if stack else None
        stack.append((depth, match.group(1)))
    return parents


def test_every_exception_mesoscreen_defines_is_a_mesoscreen_error_defined_in_domain_errors() -> (
    None
):
    """No exception lives outside the tree or outside ``domain/errors.py``."""
    strays = [
        f"{kind.__module__}.{kind.__qualname__}"
        for kind in _exceptions_defined_in_mesoscreen()
        if not issubclass(kind, MesoscreenError) or kind.__module__ != errors.__name__
    ]
    assert strays == []


def test_the_drawn_tree_is_exactly_the_class_tree() -> None:
    """Every subclass is drawn under its real parent, and nothing drawn is missing."""
    _every_module()  # a subclass defined anywhere would show here
    drawn = _drawn_tree()
    actual = {
        kind.__name__: (kind.__bases__[0].__name__ if kind is not MesoscreenError else None)
        for kind in {MesoscreenError, *_subclasses(MesoscreenError)}
    }
    assert drawn == actual


def test_every_error_has_a_code_of_its_own() -> None:
    """Each class declares a stable code, and no two classes share one."""
    kinds = {MesoscreenError, *_subclasses(MesoscreenError)}
    codes = [kind.__dict__.get("code") for kind in kinds]
    assert None not in codes
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize(
    "kind", sorted({MesoscreenError, *_subclasses(MesoscreenError)}, key=lambda k: k.__name__)
)
def test_every_error_maps_to_a_status_an_issue_code_and_an_exit_code(
    kind: type[MesoscreenError],
) -> None:
    """The table gives each error an HTTP status, a FHIR issue type and a sysexits code."""
    edges = edges_for(kind)
    assert 400 <= edges.http_status < 600
    assert 400 <= edges.page < 600
    assert edges.fhir_issue in ISSUE_TYPES
    assert edges.exit_code in SYSEXITS


def test_the_table_names_only_classes_of_the_tree() -> None:
    """Every row is a class of ``domain/errors.py``."""
    assert all(kind.__module__ == errors.__name__ for kind in ERROR_TABLE)
    assert all(issubclass(kind, MesoscreenError) for kind in ERROR_TABLE)


def test_bad_input_exits_2_and_only_a_fault_exits_70() -> None:
    """Input errors exit 2 with a 4xx; not-found 66, conflict 73; 70 only for a fault."""
    for kind in {MesoscreenError, *_subclasses(MesoscreenError)}:
        edges = edges_for(kind)
        if issubclass(kind, errors.InputError):
            assert edges.exit_code == exit_codes.INVALID_INPUT, kind
            assert 400 <= edges.http_status < 500, kind
        if issubclass(kind, errors.NotFoundError):
            assert (edges.exit_code, edges.http_status) == (exit_codes.NOT_FOUND, 404)
        if edges.exit_code == exit_codes.INTERNAL_ERROR:
            assert kind is MesoscreenError or issubclass(kind, errors.InternalError), kind
        if edges.fault:
            assert issubclass(kind, errors.InternalError | errors.ConfigurationError) or (
                kind is MesoscreenError
            ), kind


def test_an_error_without_a_row_takes_its_nearest_ancestors_row() -> None:
    """A new leaf is mapped the moment it is placed in the tree (the MRO walk)."""

    class _Leaf(errors.StaleVersionError):
        code = "leaf"

    try:
        assert edges_for(_Leaf("x")) == ERROR_TABLE[errors.StaleVersionError]
        assert edges_for(errors.IntakeError) == ERROR_TABLE[errors.InputError]
    finally:
        del _Leaf


def _an_error_of(kind: type[MesoscreenError]) -> MesoscreenError:
    """An error of ``kind`` made through its own constructor (a text for each argument)."""
    if kind is errors.RuleFailedError:
        from mesoscreen.knowledge import default_knowledge_base

        return kind(default_knowledge_base().rules[0], ValueError("raised"))  # type: ignore[call-arg]
    required = [
        name
        for name, parameter in inspect.signature(kind.__init__).parameters.items()
        if name != "self"
        and parameter.default is inspect.Parameter.empty
        and parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    arguments: list[object] = [
        None if name == "retry_after_seconds" else f"{name} given" for name in required
    ]
    return kind(*arguments)


@pytest.mark.parametrize(
    "kind", sorted({MesoscreenError, *_subclasses(MesoscreenError)}, key=lambda k: k.__name__)
)
def test_every_error_pickles_whole(kind: type[MesoscreenError]) -> None:
    """An error raised in a bulk worker process reaches the parent as it was raised: same
    class, message, code, problems and attributes (``cls(*args)`` failed for every error whose
    constructor takes other arguments than its message, and the pool took the worker for
    dead)."""
    error = _an_error_of(kind)
    error.add_note("a note")
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert type(again) is kind
    assert again.args == error.args
    assert str(again) == str(error)
    assert again.code == error.code
    assert again.problems == error.problems
    assert again.__notes__ == ["a note"]
    assert vars(again).keys() == vars(error).keys()
    assert {k: repr(v) for k, v in vars(again).items()} == {
        k: repr(v) for k, v in vars(error).items()
    }
