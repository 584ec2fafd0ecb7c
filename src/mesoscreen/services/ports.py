"""Ports: what the use cases need from the outside world, as Protocols the adapters implement."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self, TypeVar

from mesoscreen.domain.audit import AuditEntry
from mesoscreen.domain.decision import Decision
from mesoscreen.domain.knowledge_base import KnowledgeBase
from mesoscreen.domain.planner.plan import PlannedTreatment, PlanRequest
from mesoscreen.domain.records import (
    ActionCompletion,
    AdverseEvent,
    AuthSession,
    Clinic,
    Consent,
    ConsentWithdrawal,
    LiveSessionBounds,
    LoginThrottle,
    OutcomeMeasure,
    Page,
    Patient,
    Photo,
    PlanRecord,
    RecordVoid,
    Screening,
    TreatmentSession,
    User,
)
from mesoscreen.domain.vocabulary import Language
from mesoscreen.services.bulk_screening import BulkSummary


class Clock(Protocol):
    """The time source; tests pass a frozen one."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """The current date in the clinic's time zone."""
        ...


class TerminologyService(Protocol):
    """A FHIR terminology server, asked what the shipped value sets cannot say.

    Answers are True, False or None ("cannot tell": the server is off, slow or unsure); a
    caller falls back to the shipped expansions on None, so a missing server never changes a
    screening towards clear.
    """

    def subsumes(self, system: str, ancestor: str, code: str) -> bool | None:
        """Whether ``code`` is ``ancestor`` or one of its descendants in ``system``."""
        ...

    def validate_code(self, value_set: str, system: str, code: str) -> bool | None:
        """Whether ``system|code`` is in the value set with canonical URL ``value_set``."""
        ...


class RecordShown(Protocol):
    """What a patient's FHIR record shows, as the record reader found it."""

    @property
    def answers(self) -> Mapping[str, object]:
        """Raw intake answers the record gives (only ever risks, a sex, a birth date)."""
        ...

    @property
    def evidence(self) -> Mapping[str, list[str]]:
        """Per question, the references of the resources behind its answer."""
        ...

    @property
    def dates(self) -> Mapping[str, str]:
        """Per reference, the date the resource was judged by."""
        ...

    @property
    def hints(self) -> Mapping[str, list[str]]:
        """Per question, what uncoded text in the record mentions."""
        ...

    @property
    def deceased(self) -> str | None:
        """The reference of what shows the patient has died; None otherwise."""
        ...


class RecordFactsReader(Protocol):
    """Reads intake facts from one patient's FHIR resources (value sets, terminology)."""

    def read(self, resources: list[dict[str, Any]], on: date) -> RecordShown:
        """What ``resources`` show on the screening date ``on``."""
        ...


class ResponseAnswersReader(Protocol):
    """Reads a QuestionnaireResponse to the intake Questionnaire as raw intake answers."""

    def __call__(self, response: Mapping[str, Any]) -> dict[str, object]:
        """The answers ``response`` gives; FhirInputError naming a bad element."""
        ...


class AuditLog(Protocol):
    """The append-only, hash-chained audit trail."""

    def append(self, entry: AuditEntry) -> None:
        """Record ``entry`` (in the caller's transaction where storage has one)."""
        ...


@dataclass(frozen=True, slots=True)
class StoredAuditEntry:
    """An audit entry as stored: its place in the chain and the hashes that link it."""

    seq: int
    entry: AuditEntry
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of checking the audit hash chain: entries read and the first fault found."""

    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """Whether every entry and the chain head verified."""
        return self.problem is None


@dataclass(frozen=True, slots=True)
class AuditReadScope:
    """The audit entries a reader may see: those of ``clinic_ids``, or all of them."""

    clinic_ids: frozenset[str]
    everything: bool = False


class AuditTrail(Protocol):
    """The read side of the audit trail: reports and exports for a reader, the chain check."""

    def page(
        self,
        scope: AuditReadScope,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
        newest_first: bool = False,
        patient_id: str | None = None,
        actor_id: str | None = None,
        event: str | None = None,
    ) -> Page[StoredAuditEntry]:
        """Entries ``scope`` may read, recorded in [since, until) (and about ``patient_id``, by
        ``actor_id``, of the ``event`` type or family when given), oldest (or newest) first."""
        ...

    def select(
        self, scope: AuditReadScope, since: datetime | None, until: datetime | None
    ) -> Iterator[StoredAuditEntry]:
        """Every entry ``scope`` may read, recorded in [since, until), in chain order."""
        ...

    def entries(self) -> Iterator[StoredAuditEntry]:
        """Every entry in chain order, read in batches (for the chain check only)."""
        ...

    def head(self) -> tuple[int, str]:
        """The chain head: the last sequence number and its hash."""
        ...


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that the audit log held ``entry_count`` entries ending in
    ``head_hash`` at ``recorded_at``; the ``sequence``-th of its file."""

    sequence: int
    entry_count: int
    head_hash: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class CheckpointFile:
    """What a checkpoint file holds: the checkpoints whose signatures verify, and what is
    wrong with the rest (a bad signature, a line that is not a checkpoint)."""

    checkpoints: tuple[Checkpoint, ...]
    problems: tuple[str, ...] = ()


class CheckpointLog(Protocol):
    """The append-only file of signed checkpoints, kept outside the database."""

    def last(self) -> Checkpoint | None:
        """The last checkpoint written, or None for an empty or missing file."""
        ...

    def append(self, entry_count: int, head_hash: str, at: datetime) -> Checkpoint:
        """Sign a checkpoint of the head and append it as the next one of the file."""
        ...


class PasswordHasher(Protocol):
    """Hashes and checks passwords (Argon2id in production)."""

    def hash(self, password: str) -> str:
        """A salted hash of ``password``."""
        ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``."""
        ...


R = TypeVar("R")


class RecordRepository(Protocol[R]):
    """Records of one kind, always looked up within the caller's clinics."""

    def add(self, record: R) -> None:
        """Store a new record."""
        ...

    def get(self, record_id: str, clinic_ids: Collection[str]) -> R:
        """The record with ``record_id`` in one of ``clinic_ids``; NotFoundError otherwise."""
        ...

    def save(self, record: R, expected_version: int) -> None:
        """Overwrite the record if its stored version is ``expected_version``; else stale."""
        ...

    def page(
        self, clinic_ids: Collection[str], where: Mapping[str, str], offset: int, limit: int
    ) -> Page[R]:
        """Records in ``clinic_ids`` whose columns equal ``where``, oldest first."""
        ...

    def replaced(self, record_id: str) -> bool:
        """Whether a newer record names ``record_id`` as the one it replaces."""
        ...

    def latest(
        self,
        clinic_ids: Collection[str],
        where: Mapping[str, str],
        *,
        by: tuple[str, ...] = ("created_at",),
        signed: bool = False,
        current: bool = False,
    ) -> R | None:
        """The record of ``clinic_ids`` whose columns equal ``where`` that comes last by the
        columns ``by`` (then its id), read alone however many there are: among the signed
        ones (``signed_at`` set) when ``signed``, among those no record replaces when
        ``current``; None when there is none."""
        ...

    def get_with_replaced(self, record_id: str, clinic_ids: Collection[str]) -> tuple[R, bool]:
        """``get`` and ``replaced`` of one record in one query."""
        ...

    def replaced_among(self, record_ids: Collection[str]) -> frozenset[str]:
        """Those of ``record_ids`` that a newer record names as the one it replaces (one
        query for a page of records)."""
        ...


class PatientRepository(RecordRepository[Patient], Protocol):
    """Patients, with a name search."""

    def search(
        self, clinic_ids: Collection[str], name: str | None, offset: int, limit: int
    ) -> Page[Patient]:
        """Patients whose names, folded by ``domain.names.name_search_key`` (no case, accents
        or tone marks), contain every word of ``name`` folded alike."""
        ...


class ClinicRepository(Protocol):
    """The clinics of the group."""

    def add(self, clinic: Clinic) -> None:
        """Store a new clinic."""
        ...

    def list(self, clinic_ids: Collection[str] | None) -> list[Clinic]:
        """Clinics among ``clinic_ids`` (every clinic for None)."""
        ...


class UserRepository(Protocol):
    """Accounts and their clinic memberships."""

    def add(self, user: User) -> None:
        """Store a new user; UsernameUnavailableError if the username is taken."""
        ...

    def get(self, user_id: str) -> User:
        """The user with ``user_id``; NotFoundError otherwise."""
        ...

    def by_username(self, username: str) -> User | None:
        """The user with ``username``, or None."""
        ...

    def shown_names(self, user_ids: Collection[str]) -> dict[str, str]:
        """The name each of ``user_ids`` is shown by (display name, else username)."""
        ...

    def save(self, user: User, expected_version: int) -> None:
        """Overwrite the user if its stored version is ``expected_version``."""
        ...

    def in_clinics(self, clinic_ids: Collection[str], offset: int, limit: int) -> Page[User]:
        """Users belonging to any of ``clinic_ids``."""
        ...

    def count(self) -> int:
        """How many accounts exist."""
        ...


class AuthSessionRepository(Protocol):
    """Server-side sign-in sessions."""

    def add(self, session: AuthSession) -> None:
        """Store a new session."""
        ...

    def get(self, session_id: str) -> AuthSession | None:
        """The session with ``session_id`` (a token hash), or None."""
        ...

    def get_with_user(self, session_id: str) -> tuple[AuthSession, User] | None:
        """The session with ``session_id`` and its user (every request's check), or None."""
        ...

    def touch(self, session_id: str, seen_at: datetime) -> None:
        """Record activity on the session now."""
        ...

    def touch_if_live(
        self, session_id: str, seen_at: datetime, bounds: LiveSessionBounds
    ) -> tuple[AuthSession, User] | None:
        """If the session is live within ``bounds`` (``LiveSessionBounds.admit``), record its
        use at ``seen_at`` and return it as it was before (what the rule was checked on), with
        its user; otherwise None, and nothing is changed. It writes: the unit of work must be
        committed."""
        ...

    def end(self, session_id: str, ended_at: datetime) -> None:
        """End one session."""
        ...

    def end_all_for(self, user_id: str, ended_at: datetime) -> int:
        """End every open session of ``user_id``; how many were ended."""
        ...


class ThrottleRepository(Protocol):
    """Failed sign-in counters per username, counted atomically across processes."""

    def get(self, username: str) -> LoginThrottle | None:
        """The counter for ``username``, or None when it has no failures."""
        ...

    def record_failure(self, username: str, at: datetime) -> LoginThrottle:
        """Add one failure for ``username`` at ``at`` and return the new counter."""
        ...

    def lock(self, username: str) -> None:
        """Lock ``username`` until an admin unlocks it."""
        ...

    def clear(self, username: str) -> None:
        """Forget the failures of ``username`` (and unlock it)."""
        ...


class SourceThrottleRepository(Protocol):
    """Failed sign-ins per client address in a fixed window, counted atomically across processes.

    Each count is (failures, when its window started).
    """

    def get(self, source: str) -> tuple[int, datetime] | None:
        """The count for ``source``, or None when it has never failed."""
        ...

    def record_failure(self, source: str, at: datetime, stale_before: datetime) -> None:
        """Add one failure at ``at``; a window started at or before ``stale_before`` restarts."""
        ...


class IdempotencyRepository(Protocol):
    """Creates already made under a client's idempotency key: (request hash, record id)."""

    def find(self, user_id: str, key: str) -> tuple[str, str] | None:
        """The request hash and the id of the record made under ``key``, if any."""
        ...

    def remember(
        self, user_id: str, key: str, request_hash: str, record_id: str, at: datetime
    ) -> None:
        """Record the create; DuplicateRequestError if another request took the key first."""
        ...


class FormKeyRepository(Protocol):
    """The one-use keys of web forms that create records, each with the record it made."""

    def find(self, clinic_ids: Collection[str], form: str, key: str) -> str | None:
        """The id of the record the form ``form`` with ``key`` made in ``clinic_ids``, if any."""
        ...

    def claim(self, clinic_id: str, form: str, key: str, record_id: str, at: datetime) -> None:
        """Store the key with its record; DuplicateRequestError if a submission took it first."""
        ...


class KeptFormRepository(Protocol):
    """Forms kept after a timeout: (page path, sealed content) under a row key, until expiry."""

    def keep(
        self, row_key: str, page: str, sealed: str, kept_at: datetime, expires_at: datetime
    ) -> None:
        """Keep a form (replacing this browser's earlier one) and forget expired ones."""
        ...

    def find(self, row_key: str, now: datetime) -> tuple[str, str] | None:
        """The page and the sealed content kept under ``row_key``, unless expired."""
        ...

    def forget(self, row_key: str) -> None:
        """Forget the form kept under ``row_key``."""
        ...


class PhotoContentRepository(Protocol):
    """The bytes of each photo, written once and never changed."""

    def add(self, photo_id: str, data: bytes) -> None:
        """Store the bytes of ``photo_id``."""
        ...

    def get(self, photo_id: str) -> bytes:
        """The bytes of ``photo_id`` (look the photo up in its clinic first); NotFoundError."""
        ...


@dataclass(frozen=True, slots=True)
class CleanImage:
    """An uploaded image checked and re-encoded without its metadata, ready to store."""

    data: bytes
    content_type: str  # image/jpeg or image/png, from the content itself
    width: int
    height: int


class PhotoSanitiser(Protocol):
    """Checks an uploaded photo and strips its metadata (location included)."""

    def sanitise(self, data: bytes) -> CleanImage:
        """The image upright, without EXIF/XMP/IPTC/comments/text chunks, ICC profile kept.

        UnsupportedMediaError unless the content is a JPEG or PNG; TooLargeError past the
        byte limit; InputError past the pixel limit or when the image cannot be decoded.
        """
        ...


@dataclass(frozen=True, slots=True)
class RecordRead:
    """One read of ``UnitOfWork.read_together``: the records of the repository the unit of
    work names ``records`` whose columns equal ``where``, either every one, in the order of
    the repository's pages, as ``every_record`` reads them, or (``latest_by`` given) the one
    ``RecordRepository.latest`` finds by those columns, ``signed`` and ``current`` as there."""

    records: str
    where: Mapping[str, str]
    latest_by: tuple[str, ...] | None = None
    signed: bool = False
    current: bool = False


class UnitOfWork(Protocol):
    """One transaction over every repository; audit entries are written at commit.

    Leaving the ``with`` block without ``commit()`` rolls everything back,
    audit entries included.
    """

    clinics: ClinicRepository
    users: UserRepository
    auth_sessions: AuthSessionRepository
    throttles: ThrottleRepository
    patients: PatientRepository
    screenings: RecordRepository[Screening]
    action_completions: RecordRepository[ActionCompletion]
    plans: RecordRepository[PlanRecord]
    treatment_sessions: RecordRepository[TreatmentSession]
    adverse_events: RecordRepository[AdverseEvent]
    consents: RecordRepository[Consent]
    consent_withdrawals: RecordRepository[ConsentWithdrawal]
    photos: RecordRepository[Photo]
    photo_contents: PhotoContentRepository
    outcome_measures: RecordRepository[OutcomeMeasure]
    idempotency_keys: IdempotencyRepository
    form_keys: FormKeyRepository
    kept_forms: KeptFormRepository
    record_voids: RecordRepository[RecordVoid]
    source_throttles: SourceThrottleRepository
    audit: AuditLog
    audit_trail: AuditTrail

    def read_together(
        self, clinic_ids: Collection[str], reads: Sequence[RecordRead]
    ) -> list[tuple[Any, ...]]:
        """What each of ``reads`` finds among ``clinic_ids``, in order (every record, or the
        latest alone, or none), in one query where the database allows it."""
        ...

    def commit(self) -> None:
        """Write the pending audit entries to the chain and commit the transaction."""
        ...

    def __enter__(self) -> Self:
        """Begin the transaction."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back unless committed, and release the connection."""
        ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work for each use case."""

    def __call__(self) -> UnitOfWork:
        """A new, not yet begun unit of work."""
        ...

    def without_transaction(self) -> UnitOfWork:
        """A new unit of work whose statements each commit as they run, in no transaction:
        on PostgreSQL one round trip a statement, where a transaction adds its ``BEGIN`` and
        its ``COMMIT``. Leaving it without ``commit()`` undoes nothing. Only for a use case
        whose every write stands alone and whose refusals never rest on a rollback (the
        session check); it takes no audit entry, since an entry is chained in the
        transaction of what it records."""
        ...


class TokenReplayGuard(Protocol):
    """Remembers client token ids until they expire, wherever the server runs."""

    async def record_call(
        self, issuer: str, jti: str, expires_at: datetime, now: datetime, entry: AuditEntry
    ) -> bool:
        """Record the token's first use with the call's audit entry (one transaction); False,
        and nothing written, if the token was used before. Holds no thread while it waits."""
        ...

    def close(self) -> None:
        """Let go of what it holds (a database connection); it may be used again after."""
        ...


@dataclass(frozen=True, slots=True)
class HttpReply:
    """What a server answered to a GET: its status and body, or why no answer came."""

    status: int
    body: bytes = b""
    # The transport error's name (ConnectTimeout...) when no answer came; status is then 0.
    failure: str | None = None

    def json(self) -> object:
        """The body read as JSON; ValueError when it is not JSON."""
        return json.loads(self.body)


class FhirClient(Protocol):
    """GETs from a FHIR server (or a client's JWK Set URL) that the caller has already vetted.

    The one network seam of the CDS service: an adapter over httpx, whose transport tests
    replace, so a double stands in for the record system's server.
    """

    def get(self, url: str, headers: Mapping[str, str], timeout_seconds: float) -> HttpReply:
        """The answer to ``GET url``; a failed connection is an ``HttpReply`` with ``failure``."""
        ...


class Planner(Protocol):
    """Lays out a treatment plan for a screened patient (``PlanningService``)."""

    def plan(
        self,
        request: PlanRequest,
        screening: Decision | Mapping[str, Any] | None,
        completed_actions: Collection[str] = (),
    ) -> PlannedTreatment:
        """The plan ``request`` asks for; ``PlanError`` where a cap or the screening forbids it."""
        ...


@dataclass(frozen=True, slots=True)
class BulkJob:
    """What a bulk screening run needs besides its inputs: the date, the clinic policy file
    and the longest line it reads."""

    on: date
    policy_path: Path | None
    max_line_bytes: int


class BulkEngine(Protocol):
    """Screens every patient of a bulk export, one decision line each, in input order."""

    def run(
        self,
        inputs: Sequence[Path],
        job: BulkJob,
        out: IO[bytes],
        errors: IO[bytes],
        progress: Callable[[int], None] | None = None,
    ) -> BulkSummary:
        """Write the decisions to ``out`` and the unusable lines to ``errors``; the summary."""
        ...


class FhirDocuments(Protocol):
    """Mesoscreen's decisions, records and intake questions written as FHIR R4 resources."""

    def guidance_response(
        self,
        decision: Decision,
        patient_reference: str | None,
        language: Language,
        record: Mapping[str, Sequence[str]] | None,
    ) -> dict[str, Any]:
        """A decision as a Bundle: GuidanceResponse, its output Parameters, then the issues."""
        ...

    def questionnaire(self, kb: KnowledgeBase, language: Language) -> dict[str, Any]:
        """The SDC Questionnaire of the knowledge base's intake questions."""
        ...

    def consent(self, consent: Consent, withdrawal: ConsentWithdrawal | None) -> dict[str, Any]:
        """A signed consent (and its withdrawal, if any) as a FHIR Consent."""
        ...
