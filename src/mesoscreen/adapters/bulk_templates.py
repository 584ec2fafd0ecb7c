"""Decision lines shared between small Bundle lines that differ only in ids and dates.

Small records (a Patient and a few resources) mostly differ in their ids and dates: their
codes, statuses and genders repeat from patient to patient. Reading each one again costs
five times the parse. This module cuts such a line into its *shape* (every byte but the ids
and dates, with which ids are equal and in which window each date falls) and the values
cut out, so that lines of one shape share the record part of their decision line, encoded
once as a template into which each patient's ids and dates are spliced.

What a line of a shape can give is fixed by the shape, because of how the reader uses what
is cut out (``RecordReader`` and ``record_identity``):

- An id (``"id":"..."``, ``"reference":"Patient/..."``, of the characters FHIR ids take, no
  ``/``) is only compared for equality with the other ids of the line (the shape keeps which
  are equal) and written into references. The template is made by screening the line with
  each id replaced by a marker that cannot occur otherwise, and the markers show where the
  ids go. A ``fullUrl`` is never read and not kept at all.
- A date (``YYYY-MM-DD`` in an element the reader dates by) is only compared with the
  screening day less each value set's window, and with the screening day (the shape keeps,
  for each date, whether it is a day and where it falls among those days, equal included),
  and written as it is (``onset 2024-03-01``). The birth date is also an answer: the decision
  is made per patient from the answers with the patient's own birth date, through the same
  memo as any other record.

A shape is only given a template when nothing else in the line can tie an id or a date to
something cut out: no escapes (every byte of a string is the text), no ``Patient/`` outside
a cut-out reference, no medication reference or contained resource (matched by id), no other
date element or date-like text (an onset as an age, a period, a time), no death. Anything
else, and any line whose screening is not plain (an unreadable line, no single patient, a
deceased patient), is screened the general way. Before a template is kept, the line it was
made from is screened the general way too, and the template is dropped if the two differ.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import orjson

from mesoscreen.adapters.fhir.record_dates import latest_day

#: Lines longer than this are not cut into shapes (a long record's shape is its own).
MAX_TEMPLATE_LINE = 4096
TEMPLATE_MEMO_SIZE = 4096
_DATE_CLASS_MEMO = 8192

_ID = rb"[A-Za-z0-9.\-]{1,64}"
#: The date elements the reader judges by; a full day in one of them is cut out.
DATE_ELEMENTS = (
    "birthDate", "onsetDateTime", "abatementDateTime", "recordedDate", "effectiveDateTime",
    "authoredOn", "dateAsserted",
)  # fmt: skip
# Members (after '{' or ',' so never inside a string of a valid line without escapes): an id,
# a reference to a Patient, a fullUrl, a date. Groups: id key, id, Patient id, fullUrl, date
# key, date.
_CUT = re.compile(
    rb'(?<=[{,])"(?:(id)":"(' + _ID + rb')"|reference":"Patient/(' + _ID + rb')"'
    rb'|fullUrl":"([A-Za-z0-9.:/\-_]{1,200})"'
    rb"|(" + "|".join(DATE_ELEMENTS).encode() + rb')":"(\d{4}-\d{2}-\d{2})")'
)
_GROUPS = 6
# What, left in a line's shape, could tie something cut out to something kept, or date it.
_UNSAFE_IN_SHAPE = re.compile(
    rb"\\|Patient/|medicationReference|contained|deceased|onset|abatement|effective|recorded"
    rb"|issued|dateAsserted|authoredOn|dispenseRequest|birthDate|\d{4}-\d{2}-\d{2}"
)
#: How an id is marked in the line screened to make a template (JSON for U+0001, which no
#: line taken here holds: a shape has no escapes).
_MARK = re.compile(rb"\\u0001(\d+)\\u0001")
_DAY = re.compile(rb"\d{4}-\d{2}-\d{2}")


def id_marker(index: int) -> bytes:
    """The marker (JSON text) that stands for the ``index``-th distinct id of a line."""
    return b"\\u0001%d\\u0001" % index


@dataclass(frozen=True, slots=True)
class Cut:
    """A line cut into its shape (hashable) and the ids and dates taken out of it."""

    shape: tuple[object, ...]
    ids: list[bytes]
    dates: list[bytes]
    parts: list[bytes | None]


class DateClasses:
    """Where a day falls among the days the reader compares record dates with."""

    def __init__(self, on: date, windows: Iterable[int]) -> None:
        days = {on, *(on - timedelta(days=w) for w in windows)}
        self._days = sorted(days)
        self._known: dict[bytes, tuple[int, ...]] = {}

    def of(self, text: bytes) -> tuple[int, ...]:
        """() for a text that is not a day; else its places among the compared days."""
        known = self._known.get(text)
        if known is None:
            day = latest_day(text.decode())
            known = () if day is None else (
                bisect_left(self._days, day), bisect_right(self._days, day))  # fmt: skip
            if len(self._known) >= _DATE_CLASS_MEMO:
                self._known.clear()
            self._known[text] = known
        return known


def cut(line: bytes, classes: DateClasses) -> Cut:
    """``line`` cut into its shape and the ids and dates taken out of it."""
    parts: list[bytes | None] = _CUT.split(line)
    shape: list[object] = list(parts)
    ids: dict[bytes, int] = {}
    dates: dict[bytes, int] = {}
    for i in range(1, len(parts), _GROUPS + 1):
        value = parts[i + 1]
        if value is not None:
            shape[i + 1] = ids.setdefault(value, len(ids))
            continue
        value = parts[i + 2]
        if value is not None:
            shape[i + 2] = ids.setdefault(value, len(ids))
            continue
        if parts[i + 3] is not None:
            shape[i + 3] = None  # never read: any fullUrl
            continue
        value = parts[i + 5]
        assert value is not None  # noqa: S101 (one of the alternatives matched)
        shape[i + 5] = (dates.setdefault(value, len(dates)), classes.of(value))
    return Cut(tuple(shape), list(ids), list(dates), parts)


def safe_shape(line_cut: Cut) -> bool:
    """Whether nothing left in the shape can tie a cut-out id or date to anything kept."""
    parts = line_cut.parts
    for i in range(0, len(parts), _GROUPS + 1):
        literal = parts[i]
        if literal is not None and _UNSAFE_IN_SHAPE.search(literal):
            return False
    return True


def marked_line(line_cut: Cut) -> bytes:
    """The line with each id replaced by its marker (dates and fullUrls kept)."""
    parts = line_cut.parts
    out: list[bytes] = []
    for i in range(0, len(parts), _GROUPS + 1):
        out.append(parts[i] or b"")
        if i + 1 >= len(parts):
            break
        key, value, patient, full_url, date_key, day = parts[i + 1 : i + 1 + _GROUPS]
        if value is not None:
            out += (b'"', key or b"", b'":"', id_marker(line_cut.ids.index(value)), b'"')
        elif patient is not None:
            out += (b'"reference":"Patient/', id_marker(line_cut.ids.index(patient)), b'"')
        elif full_url is not None:
            out += (b'"fullUrl":"', full_url, b'"')
        else:
            out += (b'"', date_key or b"", b'":"', day or b"", b'"')
    return b"".join(out)


@dataclass(frozen=True, slots=True)
class LineTemplate:
    """A decision line with holes: ``form % values``, the values being the line's ids, then
    its dates, then the decision body (``picks`` says which goes in each hole)."""

    form: bytes
    picks: Callable[[list[bytes]], tuple[bytes, ...]]
    answers: tuple[tuple[str, object], ...]
    birth_date: int  # which of the answers is the birth date of a cut-out date; -1 if none
    birth_day: int  # which cut-out date it is
    all_text: bool  # every answer is text (the exact memo of decisions can take them)

    def answers_of(self, line_cut: Cut) -> tuple[tuple[str, object], ...]:
        """The record's answers for a line of this shape."""
        if self.birth_date < 0:
            return self.answers
        answers = list(self.answers)
        answers[self.birth_date] = ("birth_date", line_cut.dates[self.birth_day].decode())
        return tuple(answers)

    def fill(self, line_cut: Cut, body: bytes) -> bytes:
        """The decision line of a line of this shape, with its decision body."""
        return self.form % self.picks([*line_cut.ids, *line_cut.dates, body])


BODY = b"\x00body\x00"


def make_template(
    line_cut: Cut, marked_output: bytes, answers: tuple[tuple[str, object], ...]
) -> LineTemplate | None:
    """The template of ``line_cut``'s shape, from the decision line of its marked line with
    ``BODY`` in place of the decision body; None if an id or date cannot be placed."""
    dates = line_cut.dates
    birth_date = birth_day = -1
    for index, (question, value) in enumerate(answers):
        encoded = orjson.dumps(value)
        if b"\\u0001" in encoded:
            return None
        if _DAY.search(encoded):
            if question != "birth_date" or not isinstance(value, str):
                return None
            if value.encode() not in dates:
                return None
            birth_date, birth_day = index, dates.index(value.encode())
    head, separator, tail = marked_output.partition(BODY)
    if not separator or BODY in tail:
        return None
    picks: list[int] = []
    form: list[bytes] = []
    body_at = len(line_cut.ids) + len(dates)
    for piece, is_head in ((head, True), (tail, False)):
        at = 0
        holes = sorted(
            [(m.start(), m.end(), int(m.group(1))) for m in _MARK.finditer(piece)]
            + [(m.start(), m.end(), -1) for m in _DAY.finditer(piece)]
        )
        for start, end, index in holes:
            if index >= len(line_cut.ids):
                return None
            if index < 0:
                day = piece[start:end]
                if day not in dates:
                    return None
                index = len(line_cut.ids) + dates.index(day)
            form.append(piece[at:start].replace(b"%", b"%%"))
            form.append(b"%s")
            picks.append(index)
            at = end
        form.append(piece[at:].replace(b"%", b"%%"))
        if is_head:
            form.append(b"%s")
            picks.append(body_at)
    text = b"".join(form)
    if b"\\u0001" in text:
        return None
    all_text = all(type(value) is str for _, value in answers)
    return LineTemplate(text, _picker(picks), answers, birth_date, birth_day, all_text)


def _picker(picks: list[int]) -> Callable[[list[bytes]], tuple[bytes, ...]]:
    """values -> the tuple of values for the template's holes, in order."""
    chosen = tuple(picks)
    return lambda values: tuple([values[i] for i in chosen])
