"""Output schemas derived from the record declarations, so a record's fields are declared once.

A record output names its record and the fields the API does not show, each with why; every
other field of the record is shown, with the record's type made JSON-shaped (a mapping becomes
an object, a sequence or frozenset a list)::

    class UserOut(RecordOut, record=User, left_out={"password_hash": "a secret"}):
        '''An account as the calling admin sees it.'''

        in_other_clinics: bool = False  # what the API adds

What the class body annotates is either a field the API adds (shown after the record's) or,
under a record field's name, the API's own type or default for that field (at its place).
Record fields come in declaration order, the keyword-only ones (``SignedFields``) last.
``of()`` turns a record into its output, a frozenset sorted.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import typing
from collections.abc import Mapping, Sequence
from types import UnionType
from typing import Any, ClassVar, Self

from pydantic import BaseModel

# pydantic has no public name for its metaclass; the record's fields must be in the class
# namespace before pydantic collects fields, as SQLModel does it.
from pydantic._internal._model_construction import ModelMetaclass


def json_shaped(hint: Any) -> Any:
    """The type the API shows for a record field typed ``hint``: mappings as ``dict``,
    sequences, sets and frozensets as ``list``, inside optionals too; others unchanged."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is None:
        return hint
    if origin in (typing.Union, UnionType):
        return functools.reduce(operator.or_, (json_shaped(arg) for arg in args))
    if isinstance(origin, type) and issubclass(origin, Mapping):
        key, value = args or (str, Any)
        return dict[json_shaped(key), json_shaped(value)]  # type: ignore[misc]
    if isinstance(origin, type) and issubclass(origin, (Sequence, frozenset, set)):
        if issubclass(origin, str | bytes):
            return hint
        item = args[0] if args else Any
        return list[json_shaped(item)]  # type: ignore[misc]
    return hint


def _is_set(hint: Any) -> bool:
    """Whether a record field typed ``hint`` holds a set or frozenset (possibly optional)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, UnionType):
        return any(_is_set(arg) for arg in typing.get_args(hint))
    return (origin or hint) in (frozenset, set)


# The class variables of every record output, which no record field may be called.
_CLASS_VARIABLES = ("declared_record", "left_out", "shown_fields", "set_fields")


def _record_fields(record: type[Any]) -> list[dataclasses.Field[Any]]:
    """The dataclass fields of ``record``, its own first and the keyword-only ones last."""
    if not dataclasses.is_dataclass(record):
        raise TypeError(f"record: expected a dataclass (got {record!r})")
    return sorted(dataclasses.fields(record), key=lambda f: f.kw_only is True)


def _derive(
    schema: str, record: type[Any], left_out: Mapping[str, str], namespace: dict[str, Any]
) -> None:
    """Put in ``namespace`` the annotations of ``schema`` (the record's shown fields, then what
    the body adds) and what ``RecordOut.of`` reads.

    Refuses (``TypeError``) a name to leave out that the record does not declare, which would
    otherwise leave the field it meant shown, one without a reason, and one also annotated.
    """
    fields = _record_fields(record)
    names = {f.name for f in fields}
    if clashes := names & set(_CLASS_VARIABLES):
        raise TypeError(
            f"{schema}: {record.__name__} declares {', '.join(sorted(clashes))}, a name the "
            "output keeps for itself (rename the output's class variable)"
        )
    declared: dict[str, Any] = namespace.get("__annotations__", {})
    for name, why in left_out.items():
        if name not in names:
            raise TypeError(
                f"{schema} left_out: {name!r} must be a field of {record.__name__} "
                f"(got a name it does not declare; its fields: {', '.join(sorted(names))})"
            )
        if not why.strip():
            raise TypeError(f"{schema} left_out: {name!r} must say why it is left out (got '')")
        if name in declared:
            raise TypeError(f"{schema}: {name!r} is both left out and annotated; pick one")
    hints = typing.get_type_hints(record)
    shown = [f.name for f in fields if f.name not in left_out]
    annotations = {name: declared.get(name, json_shaped(hints[name])) for name in shown}
    namespace["__annotations__"] = annotations | {
        name: hint for name, hint in declared.items() if name not in annotations
    }
    namespace["declared_record"] = record
    namespace["left_out"] = dict(left_out)
    namespace["shown_fields"] = tuple(shown)
    namespace["set_fields"] = tuple(name for name in shown if _is_set(hints[name]))


class RecordOutMeta(ModelMetaclass):
    """Builds a record output: the record's shown fields are put in the class namespace as
    annotations, then pydantic makes the model as if they had been written by hand."""

    def __new__(
        mcs,
        cls_name: str,
        bases: tuple[type[Any], ...],
        namespace: dict[str, Any],
        record: type[Any] | None = None,
        left_out: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> type:
        """The output class ``cls_name``, derived from ``record`` when one is given."""
        if record is not None:
            _derive(cls_name, record, left_out or {}, namespace)
        elif left_out:
            raise TypeError(f"{cls_name}: left_out needs the record it leaves fields of")
        return super().__new__(mcs, cls_name, bases, namespace, **kwargs)


class RecordOut(BaseModel, metaclass=RecordOutMeta):
    """A record as the API shows it: the fields of ``declared_record`` but those ``left_out``.

    Made with ``of()``, which reads the record's shown fields (validating the record itself
    is refused: it would not sort the sets).
    """

    declared_record: ClassVar[type[Any]]
    left_out: ClassVar[Mapping[str, str]] = {}
    # The record's fields shown, in order, and those among them holding a set (sent sorted).
    shown_fields: ClassVar[tuple[str, ...]] = ()
    set_fields: ClassVar[tuple[str, ...]] = ()

    if typing.TYPE_CHECKING:
        # The record and the fields left out are keywords of the class statement.
        def __init_subclass__(
            cls, *, record: type[Any] = ..., left_out: Mapping[str, str] = ..., **kwargs: Any
        ) -> None: ...

    @classmethod
    def of(cls, record: object, **given: Any) -> Self:
        """``record`` (a ``declared_record``, or anything with its shown fields) as the API shows
        it; ``given`` are the values of the fields the API adds, or reshapes its own way.

        Mappings and sequences are taken by pydantic as they are; a set is sorted, as its
        order would otherwise vary from one call to the next.
        """
        values = {name: getattr(record, name) for name in cls.shown_fields if name not in given}
        for name in cls.set_fields:
            if name in values:
                values[name] = sorted(values[name])
        values.update(given)
        return cls.model_validate(values)
