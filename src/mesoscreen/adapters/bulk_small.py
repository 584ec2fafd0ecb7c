"""Small Bundle lines whose decision line is decided by the Patient alone, shared by template.

A registry or an intake system sends a Patient and a few resources a line (about 600 bytes);
deciding and writing each patient's line the general way cost ten times parsing it. Most such
records hold nothing any rule reads besides the Patient: a condition, a medication or an
observation whose codes and texts no value set names (``RecordReader.inert``). Then the
record's facts are the Patient's (sex, birth date, death), and its decision line is the line
of a record holding that Patient alone, with its id in the places the id goes. The first
patient with a given (gender, birthDate, deceasedBoolean, deceasedDateTime) gets that line
made for it; when those elements come back, the line is made for each of two marker ids
and cut at the id, and that patient's line and every later one's is the pieces joined with
its own id. A birth date that the reader shows, the intake takes on the screening date and
whose value no decision on a Patient alone reads (the shipped rules read it only beside a
weaning date, in a consistency check) stands in the key for any other such, so birth dates
to the day, which rarely repeat, share their lines too.

Only a line this path can take whole is taken: at most ``SMALL_LINE_BYTES``, UTF-8, a Bundle
whose entries all have a resource of the expected shape (msgspec Structs of only the
elements read here; any other shape is refused), exactly one Patient with an id, every other
resource naming that patient or none, and every other resource inert. Anything else returns
None and the caller screens the line the general way, which also names whatever is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, cast

import msgspec
import orjson

from mesoscreen.adapters.bulk_decoder import is_utf8
from mesoscreen.adapters.fhir.record_concepts import INERT_ELEMENTS
from mesoscreen.adapters.fhir.record_facts import RecordReader
from mesoscreen.services.record_identity import patient_in_reference

if TYPE_CHECKING:
    from mesoscreen.adapters.bulk_records import RecordResult

#: The longest line this path takes; a longer record is rarely all inert and is read in full.
SMALL_LINE_BYTES = 4096
MEMO_SIZE = 4096
#: The birth dates whose answer ``any_birth_date`` keeps: the days of 120 years, as many as
#: living patients' birth dates, so that a long run tells each one once (with ``MEMO_SIZE``
#: of them, 77% of the answers over 400,000 patients were not in it). Only a text of a
#: day's ten ASCII characters is kept; any other is told each time (rare, and with the shipped
#: reader and intake never one that stands for any other), so a full memo holds about 7 MB
#: (8 MB of a process) whatever the lines hold, in each worker.
BIRTH_DATES_KEPT = 43_830
BIRTH_DATE_CHARS = 10
#: What an element absent from the line decodes to (a JSON value is never empty).
_ABSENT = msgspec.Raw(b"")


class _Reference(msgspec.Struct, gc=False):
    """Where a resource names its patient (``subject``, ``patient``, ``beneficiary``)."""

    reference: str | None = None


class _Resource(msgspec.Struct, gc=False):
    """The elements of a resource this path reads: the Patient's, where a resource names its
    patient, and ``INERT_ELEMENTS`` (concepts as raw JSON)."""

    resourceType: str
    id: str | None = None
    gender: str | None = None
    birthDate: str | None = None
    deceasedBoolean: bool | None = None
    deceasedDateTime: str | None = None
    subject: _Reference | None = None
    patient: _Reference | None = None
    beneficiary: _Reference | None = None
    status: str | None = None
    valueBoolean: bool | None = None
    code: msgspec.Raw = _ABSENT
    verificationStatus: msgspec.Raw = _ABSENT
    clinicalStatus: msgspec.Raw = _ABSENT
    valueCodeableConcept: msgspec.Raw = _ABSENT
    medicationCodeableConcept: msgspec.Raw = _ABSENT
    medicationReference: msgspec.Raw = _ABSENT


class _Entry(msgspec.Struct, gc=False):
    resource: _Resource


class _Bundle(msgspec.Struct, gc=False):
    resourceType: Literal["Bundle"]
    entry: list[_Entry] = []


class LineTemplate:
    """A decision line cut where the patient's id goes, and what else its result says."""

    __slots__ = ("categories", "make", "not_screened", "outcome", "pieces")

    def __init__(self, pieces: list[bytes], result: RecordResult) -> None:
        self.pieces = pieces
        self.make = type(result)
        self.outcome = result.outcome
        self.categories = result.categories
        self.not_screened = result.not_screened

    def render(self, patient_id: str) -> RecordResult:
        """The result for the patient ``patient_id``."""
        line = orjson.dumps(patient_id)[1:-1].join(self.pieces)
        return self.make(line, self.outcome, self.categories, (), self.not_screened)


_UNMADE = object()
# In a template key, a birth date that stands for any other such (``any_birth_date``).
_ANY_BIRTH_DATE = object()
# Two ids no line can hold otherwise; a template is kept only if both cut the line alike.
MARKERS = ("mesoscreen-small-template-3f9c1a", "mesoscreen-small-template-b72e04")


class SmallBundles:
    """Screens small Bundle lines whose facts are the Patient's through shared templates.

    ``screen_patient(id, elements)`` gives the general path's result for a record holding
    one Patient with that id and those elements; ``any_birth_date(birthDate)`` tells a birth
    date that gives the line any other such gives, up to the id
    (``RecordScreener._any_birth_date``). A template key seen for the first time gives that
    patient's line straight from its Patient; seen again, it makes a template that this
    patient and every later one with that key share.
    A template costs two such screenings, which pays only when the key comes back (measured:
    building one for every birth date to the day made the small path twice as slow as the
    general one).
    """

    def __init__(
        self,
        reader: RecordReader,
        screen_patient: Callable[[str, dict[str, object]], RecordResult],
        any_birth_date: Callable[[str], bool],
    ) -> None:
        self.reader = reader
        self.screen_patient = screen_patient
        # 0.7 us a call; birth dates repeat, so its answers are kept.
        self.any_birth_date = lru_cache(maxsize=BIRTH_DATES_KEPT)(any_birth_date)
        self._tell_unkept = any_birth_date
        self._decoder = msgspec.json.Decoder(_Bundle)
        self._inert: dict[tuple[object, ...], bool] = {}
        self._templates: dict[tuple[object, ...], LineTemplate | None] = {}
        # The template keys seen once, whose template is made when they come back (and the
        # key then leaves this set).
        self._seen: set[tuple[object, ...]] = set()

    def screen(self, data: bytes) -> RecordResult | str | None:
        """The result for the Bundle line ``data``; the patient's id when the line has the
        shape this path takes and names one patient, but a resource must be read; None if
        the general path must take it."""
        if len(data) > SMALL_LINE_BYTES or not (data.isascii() or is_utf8(data)):
            return None
        try:
            bundle = self._decoder.decode(data)
        except msgspec.MsgspecError:
            return None
        patient = None
        found = None
        inert = self._inert
        read = False
        for entry in bundle.entry:
            resource = entry.resource
            kind = resource.resourceType
            if kind == "Patient":
                named = resource.id
                # A second Patient is read too, an id with a '/' is cut at it in references.
                if patient is not None or not named or "/" in named:
                    return None
                patient = resource
            else:
                key = _inert_key(resource)
                known = inert.get(key)
                if known is None:
                    known = self._is_inert(resource, key)
                if not known:
                    read = True
                owner = resource.subject
                if (
                    owner is not None
                    and found is not None
                    and (owner.reference == "Patient/" + found)
                ):
                    continue  # names the patient found so far (an id without '/')
                named = _named_patient(resource, found)
                if named is None:
                    continue
            if found is None:
                found = named
            elif named != found:
                return None
        if patient is None or found is None or found != patient.id:
            return None
        if read:
            return found
        born = patient.birthDate
        day: object = born
        if born is not None:
            kept = len(born) == BIRTH_DATE_CHARS and born.isascii()
            told = self.any_birth_date if kept else self._tell_unkept
            if told(born):
                day = _ANY_BIRTH_DATE
        key = (patient.gender, day, patient.deceasedBoolean, patient.deceasedDateTime)
        template = self._templates.get(key, _UNMADE)
        if template is _UNMADE:
            if key not in self._seen:
                return self._alone(key, found, patient)
            self._seen.discard(key)
            template = self._template(key, patient)
        if template is None:
            return None
        return cast(LineTemplate, template).render(found)

    def _alone(
        self, key: tuple[object, ...], patient_id: str, patient: _Resource
    ) -> RecordResult | None:
        """The line of the patient ``patient_id`` whose Patient ``patient`` has the template
        key ``key``, seen for the first time: screened alone (None if it names a bad line:
        the general path then says which)."""
        if len(self._seen) >= MEMO_SIZE:
            self._seen.clear()
        self._seen.add(key)
        result = self.screen_patient(patient_id, _elements(patient))
        return None if result.bad else result

    def _is_inert(self, resource: _Resource, key: tuple[object, ...]) -> bool:
        """``RecordReader.inert`` for ``resource``, kept under ``key`` (what it reads)."""
        read: dict[str, object] = {"resourceType": resource.resourceType}
        for name in INERT_ELEMENTS:
            value = getattr(resource, name)
            if value is not None and value is not _ABSENT:
                read[name] = value
        try:
            known = self.reader.inert(read)
        except orjson.JSONDecodeError:
            # A concept orjson refuses (a number out of range): the general path says so.
            known = False
        if len(self._inert) >= MEMO_SIZE:
            self._inert.clear()
        self._inert[key] = known
        return known

    def _template(self, key: tuple[object, ...], patient: _Resource) -> LineTemplate | None:
        """The decision line of a record holding ``patient``'s elements alone, cut at its id,
        kept under its template key ``key``; None when that record has no line (it is
        refused) or the two markers cut it differently."""
        elements = _elements(patient)
        cuts = []
        for marker in MARKERS:
            result = self.screen_patient(marker, elements)
            cuts.append((result.output.split(marker.encode()), result))
        (first, result), (second, again) = cuts
        same = msgspec.structs.replace(again, output=result.output) == result
        template = (
            LineTemplate(first, result)
            if same and first == second and len(first) > 1 and not result.bad
            else None
        )
        if len(self._templates) >= MEMO_SIZE:
            self._templates.clear()
        self._templates[key] = template
        return template


_PATIENT_ELEMENTS = ("gender", "birthDate", "deceasedBoolean", "deceasedDateTime")


def _elements(patient: _Resource) -> dict[str, object]:
    """The elements of ``patient`` that the reader reads (``_PATIENT_ELEMENTS``), those
    present."""
    found = {name: getattr(patient, name) for name in _PATIENT_ELEMENTS}
    return {name: value for name, value in found.items() if value is not None}


def _inert_key(resource: _Resource) -> tuple[object, ...]:
    """What ``RecordReader.inert`` reads of ``resource`` (``INERT_ELEMENTS``), as a key.

    The raw concepts are joined into one bytes, each in its place, by a NUL byte; an absent
    one is empty. A JSON value holds no raw NUL (msgspec refuses a raw control character even
    in a value it skips, tested), so the joined bytes split back into the same six pieces: no
    two different sets of concepts join alike. One join and one hash a resource, where a
    bytes each cost a third of a shared line's time beside the decode.
    """
    return (
        resource.resourceType, resource.status, resource.valueBoolean,
        b"\0".join((resource.code, resource.verificationStatus, resource.clinicalStatus,
                    resource.valueCodeableConcept, resource.medicationCodeableConcept,
                    resource.medicationReference)),
    )  # fmt: skip


def _named_patient(resource: _Resource, known: str | None) -> str | None:
    """The patient id a resource (not a Patient) names, as ``patient_named_by`` finds it;
    ``known`` (an id without '/') is taken from ``Patient/<known>`` without cutting."""
    for owner in (resource.subject, resource.patient, resource.beneficiary):
        if owner is not None and (reference := owner.reference) is not None:
            if known is not None and reference == "Patient/" + known:
                return known
            found = patient_in_reference(reference)
            if found is not None:
                return found
    return None
