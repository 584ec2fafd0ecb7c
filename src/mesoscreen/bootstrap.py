"""The composition root: the one module that picks concrete adapters and wires the use cases."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine

from mesoscreen.adapters.audit_checkpoints import (
    FileCheckpointLog,
    generate_key_pair,
    load_signing_key,
    load_verify_key,
    read_checkpoints,
)
from mesoscreen.adapters.bulk_records import RecordScreener
from mesoscreen.adapters.bulk_runner import LocalBulkEngine
from mesoscreen.adapters.clock import SystemClock as SystemClock
from mesoscreen.adapters.db.audit import EngineAuditLog
from mesoscreen.adapters.db.backup import backup_sqlite, restore_sqlite
from mesoscreen.adapters.db.engine import create_database_engine, is_sqlite, sqlite_path
from mesoscreen.adapters.db.grouped_token_uses import GroupCommitTokenReplayGuard
from mesoscreen.adapters.db.migrations import upgrade_database
from mesoscreen.adapters.db.passwords import Argon2PasswordHasher
from mesoscreen.adapters.db.protections import require_protections
from mesoscreen.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from mesoscreen.adapters.db.usage_lock import serving
from mesoscreen.adapters.fhir.documents import FhirR4Documents
from mesoscreen.adapters.fhir.http_client import HttpxFhirClient
from mesoscreen.adapters.fhir.questionnaire_response import answers_from_response
from mesoscreen.adapters.fhir.record_facts import RecordReader
from mesoscreen.adapters.fhir.terminology_client import CACHE_FILE_NAME, FhirTerminologyClient
from mesoscreen.adapters.form_sealer import AesGcmFormSealer
from mesoscreen.adapters.photo_sanitiser import PillowPhotoSanitiser
from mesoscreen.adapters.spark import SparkBulkEngine
from mesoscreen.config import Settings
from mesoscreen.domain.knowledge_base import KnowledgeBase
from mesoscreen.domain.policy import Policy
from mesoscreen.knowledge import default_knowledge_base, load_policy
from mesoscreen.knowledge.consent_loader import CONSENT_DIR, load_consent_templates
from mesoscreen.knowledge.outcome_scales_loader import default_outcome_scales
from mesoscreen.knowledge.planning_loader import default_atlas, default_formulary
from mesoscreen.services.accounts import Accounts
from mesoscreen.services.adverse_events import AdverseEventRecords
from mesoscreen.services.audit_integrity import AuditIntegrity
from mesoscreen.services.audit_reports import AuditReports
from mesoscreen.services.authentication import Authentication, SessionPolicy
from mesoscreen.services.cds_hooks import CdsHooks, CdsSettings
from mesoscreen.services.cds_tokens import ClientKeys, TokenVerifier
from mesoscreen.services.consents import ConsentRecords
from mesoscreen.services.day import ClinicDay
from mesoscreen.services.follow_up import FollowUps
from mesoscreen.services.form_keys import FormKeys
from mesoscreen.services.intake_reading import IntakeReader
from mesoscreen.services.kept_forms import KeptForms
from mesoscreen.services.outcome_measures import OutcomeMeasureRecords
from mesoscreen.services.patient_header import PatientHeaders
from mesoscreen.services.patients import PatientRecords
from mesoscreen.services.photos import PhotoRecords
from mesoscreen.services.plan_gate import PlanGate
from mesoscreen.services.planning import PlanningService
from mesoscreen.services.plans import TreatmentPlanRecords
from mesoscreen.services.ports import (
    AuditLog,
    BulkEngine,
    CheckpointFile,
    Clock,
    FhirClient,
    FhirDocuments,
    TerminologyService,
)
from mesoscreen.services.required_actions import RequiredActionRecords
from mesoscreen.services.screening import ScreeningService
from mesoscreen.services.screening_records import ScreeningRecords
from mesoscreen.services.treatment_sessions import TreatmentSessionRecords


def command_clock() -> Clock:
    """The clock of a command and of ``mesoscreen.screen()``: dates in the machine's zone,
    as the person at the keyboard reads them."""
    return SystemClock(zone=None)


def settings_policy(settings: Settings, kb: KnowledgeBase) -> Policy | None:
    """The clinic policy the ``policy_file`` setting names; None for the stricter readings."""
    return load_policy(settings.policy_file, kb) if settings.policy_file else None


@dataclass(frozen=True, slots=True)
class Services:
    """Every use case of the clinic service, wired to one database."""

    settings: Settings
    engine: Engine
    clock: Clock
    screening: ScreeningService
    planner: PlanningService
    audit_log: AuditLog
    authentication: Authentication
    accounts: Accounts
    patients: PatientRecords
    screenings: ScreeningRecords
    actions: RequiredActionRecords
    plans: TreatmentPlanRecords
    treatment_sessions: TreatmentSessionRecords
    adverse_events: AdverseEventRecords
    photos: PhotoRecords
    audit: AuditReports
    audit_integrity: AuditIntegrity
    follow_ups: FollowUps
    outcome_measures: OutcomeMeasureRecords
    consents: ConsentRecords
    day: ClinicDay
    patient_headers: PatientHeaders
    form_keys: FormKeys
    cds_hooks: CdsHooks
    fhir_documents: FhirDocuments
    kept_forms: KeptForms
    # One page's use cases: their read-only transactions' audit entries chained once, at the
    # end of the block, before the page is answered (adapters/db/unit_of_work.py).
    reads_batched: Callable[[], AbstractContextManager[None]]
    terminology: FhirTerminologyClient | None = None

    def close(self) -> None:
        """Release the database connections (and the terminology server's)."""
        self.cds_hooks.close()
        self.engine.dispose()
        if self.terminology is not None:
            self.terminology.close()


def prepare_database(settings: Settings) -> None:
    """Create or upgrade the schema (servers sharing PostgreSQL take turns)."""
    upgrade_database(settings.resolved_database_url())


def hold_database(settings: Settings) -> AbstractContextManager[object]:
    """The lock a server holds on the embedded database while it runs (a restore then waits
    for it to stop); nothing for PostgreSQL, restored with its own tools."""
    url = settings.resolved_database_url()
    return serving(sqlite_path(url)) if is_sqlite(url) else nullcontext()


def check_protections(settings: Settings, who: str) -> None:
    """MissingProtectionsError unless every append-only trigger of the database is live."""
    engine = create_database_engine(settings.resolved_database_url())
    try:
        require_protections(engine, who)
    finally:
        engine.dispose()


def checkpoint_log(settings: Settings) -> FileCheckpointLog | None:
    """Where this server signs and appends audit checkpoints; None when no key is set."""
    if settings.audit_checkpoint_key is None:
        return None
    key = load_signing_key(settings.audit_checkpoint_key)
    return FileCheckpointLog(settings.resolved_checkpoint_file(), key)


def generate_checkpoint_keys(private_key: Path, public_key: Path) -> str:
    """Write a new Ed25519 key pair for audit checkpoints (never over a key); its id."""
    return generate_key_pair(private_key, public_key)


def read_checkpoint_file(path: Path, public_key: Path) -> CheckpointFile:
    """The checkpoints of ``path``, each signature checked with the key in ``public_key``."""
    return read_checkpoints(path, load_verify_key(public_key))


def embedded_database_file(settings: Settings) -> Path | None:
    """The embedded SQLite file ``settings`` name; None for PostgreSQL."""
    url = settings.resolved_database_url()
    return sqlite_path(url) if is_sqlite(url) else None


def backup_database(database: Path, out: Path) -> None:
    """A consistent copy of the embedded database file, even while a server runs on it."""
    backup_sqlite(database, out)


def restore_database(backup: Path, database: Path) -> None:
    """Replace the embedded database file with a backup; refused while a server runs."""
    restore_sqlite(backup, database)


def terminology_service(settings: Settings) -> FhirTerminologyClient | None:
    """The FHIR terminology server ``settings`` name, with its cache; None when unset."""
    if not settings.terminology_server:
        return None
    cache = settings.resolved_data_dir() / CACHE_FILE_NAME
    return FhirTerminologyClient(settings.terminology_server, cache)


def intake_reader(kb: KnowledgeBase, terminology: TerminologyService | None = None) -> IntakeReader:
    """The one reader of screening input (intakes, QuestionnaireResponses, FHIR Bundles), on
    the shipped value sets and, if given, a terminology server."""
    return IntakeReader(
        RecordReader.default(terminology), lambda response: answers_from_response(response, kb)
    )


def screening_service(policy: Policy | Path | None = None) -> ScreeningService:
    """The screening on the shipped knowledge base, under ``policy`` (a clinic policy or the
    path of its file; the stricter reading of every source conflict when None)."""
    kb = default_knowledge_base()
    if isinstance(policy, Path):
        policy = load_policy(policy, kb)
    return ScreeningService(kb, policy)


def record_screener(on: date, policy_path: Path | None = None) -> RecordScreener:
    """A bulk worker's screener: the shipped knowledge base and value sets, under the policy
    in ``policy_path``. Module-level, so worker processes and Spark partitions are given it."""
    kb = default_knowledge_base()
    policy = load_policy(policy_path, kb) if policy_path is not None else None
    return RecordScreener(ScreeningService(kb, policy), RecordReader.default(), on)


def bulk_engine(engine: str, workers: int) -> BulkEngine:
    """The bulk engine named ``engine`` ("local" processes or "spark") on ``workers`` cores."""
    if engine == "spark":
        return SparkBulkEngine(record_screener, cores=workers)
    return LocalBulkEngine(record_screener, workers)


def fhir_documents() -> FhirDocuments:
    """The writer of decisions, consents and the intake Questionnaire as FHIR R4."""
    return FhirR4Documents()


def token_verifier(settings: Settings, clock: Clock, fhir: FhirClient) -> TokenVerifier:
    """The checker of CDS clients' tokens, with the clients ``settings`` configure."""
    clients = {
        issuer: ClientKeys(client.jwks, tuple(client.jku))
        for issuer, client in settings.cds_clients.items()
    }
    return TokenVerifier(clients, clock, fhir)


def build_services(
    settings: Settings,
    clock: Clock | None = None,
    *,
    fhir_transport: httpx.BaseTransport | None = None,
) -> Services:
    """The use cases on the database ``settings`` name; call ``close()`` when done.

    ``fhir_transport`` replaces the network for the CDS service's calls to record systems'
    FHIR servers and JWK Set URLs (tests pass ``httpx.MockTransport``).
    """
    clock = clock or SystemClock()
    kb = default_knowledge_base()
    policy = settings_policy(settings, kb)
    engine = create_database_engine(settings.resolved_database_url())
    uow = SqlUnitOfWorkFactory(engine)
    hasher = Argon2PasswordHasher(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )
    session_policy = SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
        free_failures=settings.login_free_failures,
        lock_after=settings.login_lock_after,
        source_failures=settings.login_source_failures_per_minute,
    )
    screening = ScreeningService(kb, policy)
    terminology = terminology_service(settings)
    templates = load_consent_templates(kb, settings.consent_templates_dir or CONSENT_DIR)
    planner = PlanningService(default_atlas(), default_formulary(kb))
    plan_gate = PlanGate(planner, kb.content_hash)
    audit_log = EngineAuditLog(engine)
    fhir = HttpxFhirClient(fhir_transport)
    intakes = intake_reader(kb, terminology)
    cds_hooks = CdsHooks(
        CdsSettings(frozenset(settings.cds_mesotherapy_codes), settings.cds_development_mode),
        screening,
        intakes,
        token_verifier(settings, clock, fhir),
        GroupCommitTokenReplayGuard(engine),
        audit_log,
        fhir,
        clock,
    )
    return Services(
        settings=settings,
        engine=engine,
        clock=clock,
        screening=screening,
        planner=planner,
        audit_log=audit_log,
        authentication=Authentication(uow, clock, hasher, session_policy),
        accounts=Accounts(uow, clock, hasher),
        patients=PatientRecords(uow, clock),
        screenings=ScreeningRecords(uow, clock, screening, intakes),
        actions=RequiredActionRecords(uow, clock),
        plans=TreatmentPlanRecords(uow, clock, plan_gate),
        treatment_sessions=TreatmentSessionRecords(uow, clock, templates, plan_gate),
        adverse_events=AdverseEventRecords(uow, clock, [c.id for c in kb.complications]),
        photos=PhotoRecords(
            uow,
            clock,
            PillowPhotoSanitiser(settings.max_photo_bytes, settings.max_photo_pixels),
        ),
        audit=AuditReports(uow, clock),
        audit_integrity=AuditIntegrity(uow, clock),
        follow_ups=FollowUps(uow, clock),
        outcome_measures=OutcomeMeasureRecords(uow, clock, default_outcome_scales()),
        consents=ConsentRecords(uow, clock, kb, templates),
        day=ClinicDay(uow, clock),
        patient_headers=PatientHeaders(uow, clock),
        form_keys=FormKeys(uow, clock),
        cds_hooks=cds_hooks,
        fhir_documents=fhir_documents(),
        kept_forms=KeptForms(uow, clock, AesGcmFormSealer()),
        reads_batched=uow.reads_batched,
        terminology=terminology,
    )
