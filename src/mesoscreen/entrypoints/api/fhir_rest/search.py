"""FHIR search parameters read strictly: each one used is honoured or the search is refused
(400, naming the parameter), never silently ignored; results as a searchset Bundle with
``self`` and ``next`` links."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException

from mesoscreen.domain.dates import add_months
from mesoscreen.services.recording import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# Parameters every search takes (_format is judged by the negotiation).
_COMMON = frozenset({"_count", "_offset", "_format"})
_PREFIXES = ("eq", "ge", "gt", "le", "lt")
_PATIENT = re.compile(r"^(?:Patient/)?([A-Za-z0-9\-.]{1,64})$")
_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def refuse(parameter: str, expected: str, value: str) -> HTTPException:
    """A 400 naming the search parameter, what it takes and what came."""
    return HTTPException(400, f"'{parameter}': expected {expected} (got {value[:60]!r})")


def check_names(given: Sequence[tuple[str, str]], supported: frozenset[str]) -> None:
    """Refuse a parameter the search does not support (modifiers and chains included)."""
    for name, value in given:
        if name not in supported | _COMMON:
            names = ", ".join(sorted(supported | (_COMMON - {"_format"})))
            raise refuse(name, f"one of the supported parameters {names}", value)


def _single(given: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for n, v in given if n == name]
    if len(values) > 1:
        raise refuse(name, "one value", ",".join(values))
    return values[0] if values else None


def page_of(given: Sequence[tuple[str, str]]) -> tuple[int, int]:
    """(offset, count) from ``_offset`` and ``_count``; a count past the most a page holds is
    lowered to it (FHIR lets a server return fewer), ``_count=0`` asks for the total only."""
    bounds = []
    for name, default in (("_offset", 0), ("_count", DEFAULT_PAGE_SIZE)):
        value = _single(given, name)
        if value is None:
            bounds.append(default)
        elif value.isdigit() and len(value) < 10:
            bounds.append(int(value))
        else:
            raise refuse(name, "a whole number, 0 or more", value)
    return bounds[0], min(bounds[1], MAX_PAGE_SIZE)


def patient_of(given: Sequence[tuple[str, str]]) -> str | None:
    """The patient id of ``patient=Patient/x`` (or ``patient=x``)."""
    value = _single(given, "patient")
    if value is None:
        return None
    found = _PATIENT.match(value)
    if found is None:
        raise refuse("patient", "a reference Patient/<id>", value)
    return found.group(1)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _interval(value: str) -> tuple[datetime, datetime]:
    """The instants a FHIR date or dateTime value covers, [start, end)."""
    partial = _PARTIAL.match(value)
    if partial:
        year, month, day = partial.groups()
        start = date(int(year), int(month or 1), int(day or 1))
        end = start + timedelta(days=1) if day else add_months(start, 1 if month else 12)
        return _midnight(start), _midnight(end)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time needs its offset")
    precision = timedelta(seconds=1) if moment.microsecond == 0 else timedelta(microseconds=1)
    return moment, moment + precision


def date_range(given: Sequence[tuple[str, str]]) -> tuple[datetime | None, datetime | None]:
    """[since, until) from every ``date`` parameter (each with an optional eq, ge, gt, le or
    lt prefix; several are all required, as FHIR ANDs repeated parameters)."""
    since: datetime | None = None
    until: datetime | None = None
    for name, raw in given:
        if name != "date":
            continue
        prefix, value = (raw[:2], raw[2:]) if raw[:2] in _PREFIXES else ("eq", raw)
        try:
            low, high = _interval(value)
        except ValueError:
            raise refuse(
                "date", "[eq|ge|gt|le|lt]YYYY[-MM[-DD]] or a dateTime with its offset", raw
            ) from None
        lower = {"eq": low, "ge": low, "gt": high}.get(prefix)
        upper = {"eq": high, "lt": low, "le": high}.get(prefix)
        if lower is not None:
            since = lower if since is None else max(since, lower)
        if upper is not None:
            until = upper if until is None else min(until, upper)
    return since, until


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of matches and what the links need."""

    resources: list[dict[str, Any]]
    total: int
    offset: int
    count: int


def searchset(
    base: str,
    resource_type: str,
    given: Sequence[tuple[str, str]],
    page: SearchPage,
    readable: bool = False,
) -> dict[str, Any]:
    """A searchset Bundle: ``total``, the page's matches, and links to this page and the next
    (and, when the type has a read interaction here, each match's URL as its fullUrl)."""
    kept = [(n, v) for n, v in given if n not in ("_offset", "_count", "_format")]

    def link(offset: int) -> str:
        query = urlencode([*kept, ("_count", str(page.count)), ("_offset", str(offset))])
        return f"{base}/{resource_type}?{query}"

    links = [{"relation": "self", "url": link(page.offset)}]
    if page.count and page.offset + page.count < page.total:
        links.append({"relation": "next", "url": link(page.offset + page.count)})
    if page.offset > 0 and page.count:
        links.append({"relation": "previous", "url": link(max(page.offset - page.count, 0))})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": links,
        "entry": [
            {
                **({"fullUrl": f"{base}/{r['resourceType']}/{r['id']}"} if readable else {}),
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in page.resources
        ],
    }
