"""The CDS Hooks use case: who calls, what the hook asks, the record, the screening, the cards,
and the call recorded in the audit trail with its token spent, before any answer.

Each call goes: the caller's token is checked (``TokenVerifier``; refused calls are audited
too, with no token to spend); the body is read as the hook's JSON; calls that order or book no
scalp mesotherapy get no cards; the patient's record is read from prefetch or fetched from the
record system's FHIR server (``cds_record``; 412 when it cannot be had); the record is read
by the one intake reader and screened by the one screening service; the cards are built
(``cds_cards``); and the call's audit entry and its token's first use are committed together
(``TokenReplayGuard``) before the answer leaves. A token seen before is refused (401) and the
refusal audited. The edge turns a ``CdsAnswer`` into HTTP.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Protocol

import orjson
from anyio.to_thread import run_sync

from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.domain.errors import (
    HookRequestError,
    MesoscreenError,
    NotFoundError,
    RecordUnavailableError,
    TokenRejectedError,
)
from mesoscreen.services.cds_cards import cards_for
from mesoscreen.services.cds_definitions import SERVICES, discovery
from mesoscreen.services.cds_memo import RecordMemo, ScreeningMemo
from mesoscreen.services.cds_record import gather_record, is_fhir_id, prefetch_complete
from mesoscreen.services.cds_tokens import CdsCaller
from mesoscreen.services.intake_reading import IntakeReader
from mesoscreen.services.ports import AuditLog, Clock, FhirClient, TokenReplayGuard
from mesoscreen.services.screening import ScreeningService

FEEDBACK_OUTCOMES = ("accepted", "overridden")
TOKEN_THREADS = 16
HOOK_EVENT = "cds.hook"
FEEDBACK_EVENT = "cds.feedback"


class CallerCheck(Protocol):
    """Tells who calls from the Authorization header (``cds_tokens.TokenVerifier``)."""

    def verify(self, authorization: str | None, audience: str) -> CdsCaller:
        """The caller the bearer token proves; TokenRejectedError saying why otherwise."""
        ...


@dataclass(frozen=True, slots=True)
class CdsSettings:
    """How the CDS service is set up: the codes that mean scalp mesotherapy in an order or
    appointment, and development mode (no token checks, said in every audit entry)."""

    mesotherapy_codes: frozenset[str]
    development_mode: bool = False


@dataclass(frozen=True, slots=True)
class CdsAnswer:
    """A call's answer: its JSON body, or the error that refused it (the edge maps it through
    the one error table: 400, 401, 404, or 412 for a record that cannot be had)."""

    body: dict[str, Any] | None = None
    error: MesoscreenError | None = None


def _refused(error: MesoscreenError) -> CdsAnswer:
    return CdsAnswer(error=error)


REPLAYED = _refused(TokenRejectedError("token refused: this jti was already used"))


def _codings(concept: object) -> Iterator[str]:
    """``system|code`` of each coding of a CodeableConcept."""
    if isinstance(concept, dict) and isinstance(concept.get("coding"), list):
        for coding in concept["coding"]:
            if isinstance(coding, dict):
                yield f"{coding.get('system')}|{coding.get('code')}"


def _bundle_resources(value: object, field: str, bare_list: bool = False) -> list[dict[str, Any]]:
    """The resources of a context Bundle (or of a plain list where a hook's examples use one)."""
    if value is None:
        return []
    if bare_list and isinstance(value, list):
        return [r for r in value if isinstance(r, dict)]
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        raise HookRequestError(f"'context.{field}': expected a FHIR Bundle")
    entries = value.get("entry")
    if not isinstance(entries, list):
        return []
    return [
        e["resource"]
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]


def mesotherapy_orders(hook: str, context: Mapping[str, Any], codes: frozenset[str]) -> list[str]:
    """References of the draft orders or booked appointments that are scalp mesotherapy."""
    if hook == "appointment-book":
        found = []
        # appointment-book's own examples send a plain list of Appointments.
        booked = _bundle_resources(context.get("appointments"), "appointments", bare_list=True)
        for appointment in booked:
            concepts = [appointment.get("appointmentType"), *(appointment.get("serviceType") or []),
                        *(appointment.get("reasonCode") or [])]  # fmt: skip
            if any(code in codes for concept in concepts for code in _codings(concept)):
                found.append(f"Appointment/{appointment.get('id')}")
        return found
    selected = context.get("selections")
    found = []
    for order in _bundle_resources(context.get("draftOrders"), "draftOrders"):
        reference = f"{order.get('resourceType')}/{order.get('id')}"
        if order.get("resourceType") != "ServiceRequest":
            continue  # mesotherapy is ordered as a procedure; medication orders are not it
        if hook == "order-select" and isinstance(selected, list) and reference not in selected:
            continue
        if any(code in codes for code in _codings(order.get("code"))):
            found.append(reference)
    return found


def feedback_problem(items: object) -> str | None:
    """What is wrong with a feedback list, naming the element; None when it is well formed."""
    if not isinstance(items, list) or not items:
        return "'feedback': expected a non-empty list"
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("card"), str):
            return f"'feedback[{index}].card': expected the card's uuid"
        if item.get("outcome") not in FEEDBACK_OUTCOMES:
            return f"'feedback[{index}].outcome': expected accepted or overridden"
        if not isinstance(item.get("outcomeTimestamp"), str):
            return f"'feedback[{index}].outcomeTimestamp': expected an ISO timestamp"
        accepted = item.get("acceptedSuggestions")
        if item["outcome"] == "accepted" and not (
            isinstance(accepted, list)
            and accepted
            and all(isinstance(a, dict) and isinstance(a.get("id"), str) for a in accepted)
        ):
            return (
                f"'feedback[{index}].acceptedSuggestions': expected the accepted suggestions' ids"
            )
    return None


def _hook_context(body: object, hook: str) -> dict[str, Any]:
    """The context of a well-formed hook request; HookRequestError naming the field."""
    if not isinstance(body, dict):
        raise HookRequestError("the body must be a JSON object")
    if body.get("hook") != hook:
        raise HookRequestError(f"'hook': expected {hook!r} for this service")
    if not isinstance(body.get("hookInstance"), str):
        raise HookRequestError("'hookInstance': expected a string")
    context = body.get("context")
    if not isinstance(context, dict) or not is_fhir_id(context.get("patientId")):
        raise HookRequestError("'context.patientId': expected a FHIR id")
    return context


class CdsHooks:
    """The CDS service: discovery, the hook calls and their feedback, every call audited."""

    def __init__(
        self,
        settings: CdsSettings,
        screening: ScreeningService,
        intakes: IntakeReader,
        tokens: CallerCheck,
        replay_guard: TokenReplayGuard,
        audit_log: AuditLog,
        fhir: FhirClient,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.screening = screening
        # Calls whose facts give a decision already made share it and its card texts.
        self._memo = ScreeningMemo(screening)
        self._records_read = RecordMemo()
        self._intakes = intakes
        self._tokens = tokens
        self._replay_guard = replay_guard
        self._audit_log = audit_log
        self._fhir = fhir
        self._clock = clock
        # Made on first use, in the process that serves (again after ``close``).
        self._token_threads: ThreadPoolExecutor | None = None

    def close(self) -> None:
        """Let go of the connection the call recorder holds, and of the token checks'
        threads (a check under way finishes)."""
        self._replay_guard.close()
        threads, self._token_threads = self._token_threads, None
        if threads is not None:
            threads.shutdown(wait=False)

    def discovery(self) -> dict[str, Any]:
        """The services, their hooks and their prefetch templates."""
        return discovery()

    def is_service(self, service_id: str) -> bool:
        """Whether ``service_id`` names one of the services offered."""
        return service_id in SERVICES

    async def _audit(
        self,
        event: str,
        who: CdsCaller,
        service_id: str,
        detail: dict[str, str],
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
    ) -> bool:
        """Audit the call and record its token as used, together; False for a replayed token.

        Awaited: the call waits for the commit it shares with the calls that arrive
        meanwhile, without holding a thread, and other calls go on.
        """
        entry = AuditEntry(
            event_type=event,
            action=AuditAction.EXECUTE,
            outcome=outcome,
            recorded_at=self._clock.now(),
            actor_role="cds-client",
            entity_type="cds-service",
            entity_id=service_id,
            source=who.issuer[:100],
            detail={
                **detail,
                **({"tenant": who.tenant} if who.tenant else {}),
                "development_mode": str(who.development).lower(),
            },
        )
        if who.jti is None or who.expires_at is None:
            await run_sync(self._audit_log.append, entry)
            return True
        now = self._clock.now()
        if await self._replay_guard.record_call(who.issuer, who.jti, who.expires_at, now, entry):
            return True
        denied = replace(entry, outcome=AuditOutcome.DENIED,
                         detail={**entry.detail, "refused": "replayed token"})  # fmt: skip
        await run_sync(self._audit_log.append, denied)
        return False

    async def _failed(
        self, event: str, who: CdsCaller, service_id: str, error: MesoscreenError
    ) -> CdsAnswer:
        """Refuse an authenticated call, spending its token and auditing the refusal."""
        refused = {"refused": error.code}
        if not await self._audit(event, who, service_id, refused, AuditOutcome.FAILURE):
            return REPLAYED
        return _refused(error)

    async def _caller(self, authorization: str | None, audience: str) -> CdsCaller:
        """Who calls, checked in a worker thread: a ``jku`` key set may be fetched over the
        network, and the event loop stays free for the recorder thread that holds the audit
        head's lock (measured: a loop busy with signature checks starves it under load)."""
        if self.settings.development_mode:
            return CdsCaller("development-mode", development=True)
        # A pool of its own rather than anyio's: about half the CPU per hop (measured on
        # uvloop: 30-40 against 53-66 µs), and the context (the correlation id the logs
        # carry) goes along as with anyio.
        # At most TOKEN_THREADS checks at once (one waiting on a jku JWK Set holds a thread).
        threads = self._token_threads
        if threads is None:
            threads = self._token_threads = ThreadPoolExecutor(TOKEN_THREADS, "cds-token-check")
        check = contextvars.copy_context().run
        return await asyncio.get_running_loop().run_in_executor(
            threads, check, self._tokens.verify, authorization, audience
        )

    async def _opened(
        self, event: str, service_id: str, authorization: str | None, audience: str, body: bytes
    ) -> tuple[CdsCaller, Any] | CdsAnswer:
        """The caller and the JSON body of a call to a known service, or why it is refused."""
        if service_id not in SERVICES:
            return _refused(NotFoundError(f"no CDS service {service_id!r}"))
        try:
            who = await self._caller(authorization, audience)
        except TokenRejectedError as exc:
            # Refusals are audited too (who tried, why); there is no token to spend.
            stranger = CdsCaller("unauthenticated")
            reason = {"refused": "token", "reason": str(exc)[:200]}
            await self._audit(event, stranger, service_id, reason, AuditOutcome.DENIED)
            return _refused(exc)
        try:
            return who, orjson.loads(body)
        except orjson.JSONDecodeError:
            unreadable = HookRequestError(
                "the body is not JSON (or nested too deeply)", code="invalid_json"
            )
            return await self._failed(event, who, service_id, unreadable)

    async def call(
        self, service_id: str, authorization: str | None, audience: str, body: bytes, link: str
    ) -> CdsAnswer:
        """Screen the patient of the hook request against the record; answer with cards.

        ``audience`` is this service's URL (the token's ``aud``); ``link`` is where the cards
        send the clinician to complete the screening.
        """
        opened = await self._opened(HOOK_EVENT, service_id, authorization, audience, body)
        if isinstance(opened, CdsAnswer):
            return opened
        who, request = opened
        hook = SERVICES[service_id]["hook"]
        try:
            context = _hook_context(request, hook)
            orders = mesotherapy_orders(hook, context, self.settings.mesotherapy_codes)
        except HookRequestError as exc:
            return await self._failed(HOOK_EVENT, who, service_id, exc)
        instance = request["hookInstance"][:64]
        if not orders:
            detail = {"hook": hook, "hook_instance": instance, "outcome": "not-mesotherapy"}
            return await self._answered(who, service_id, detail, [])
        patient_id = context["patientId"]
        today = self._clock.today()
        # A prefetch read before (the same JSON, patient and date) reads the same.
        read_key = RecordMemo.key(request.get("prefetch"), patient_id)
        given = self._records_read.get(read_key, today)
        if given is None:
            complete = prefetch_complete(request)
            gather = partial(gather_record, request, patient_id, self._fhir,
                             self.settings.development_mode)  # fmt: skip
            try:
                # Off the event loop only when the FHIR server must be asked.
                resources = gather() if complete else await run_sync(gather)
            except RecordUnavailableError as exc:
                return await self._failed(HOOK_EVENT, who, service_id, exc)
            given = self._intakes.read_record(resources, today, patient_id)
            if complete:
                self._records_read.keep(read_key, today, given)
        if given.deceased is not None:
            # The record shows the patient has died: no screening, so no treatment cards.
            detail = {"hook": hook, "hook_instance": instance, "patient": patient_id[:64],
                      "outcome": "not-screened-deceased"}  # fmt: skip
            return await self._answered(who, service_id, detail, [])
        screened = self._memo.screen(given.answers, today)
        decision = screened.decision
        drafts = orders if hook != "appointment-book" else []
        cards = cards_for(decision, self.screening.kb, drafts, link, f"Patient/{patient_id}",
                          screened.texts)  # fmt: skip
        detail = {
            "hook": hook, "hook_instance": instance, "patient": patient_id[:64],
            "outcome": decision.outcome.value, "cards": ",".join(c["uuid"] for c in cards),
        }  # fmt: skip
        return await self._answered(who, service_id, detail, cards)

    async def _answered(
        self, who: CdsCaller, service_id: str, detail: dict[str, str], cards: list[Any]
    ) -> CdsAnswer:
        """The cards, once the call is audited and its token spent; REPLAYED otherwise."""
        if await self._audit(HOOK_EVENT, who, service_id, detail):
            return CdsAnswer({"cards": cards})
        return REPLAYED

    async def feedback(
        self, service_id: str, authorization: str | None, audience: str, body: bytes
    ) -> CdsAnswer:
        """Record which cards were accepted or overridden, and why, in the audit trail."""
        opened = await self._opened(FEEDBACK_EVENT, service_id, authorization, audience, body)
        if isinstance(opened, CdsAnswer):
            return opened
        who, request = opened
        items = request.get("feedback") if isinstance(request, dict) else None
        problem = feedback_problem(items)
        if problem is not None:
            invalid = HookRequestError(problem, code="invalid_feedback")
            return await self._failed(FEEDBACK_EVENT, who, service_id, invalid)
        assert isinstance(items, list)  # noqa: S101 (checked just above)
        spent = False
        for item in items:
            reason = item.get("overrideReason")
            code = reason.get("reason", {}).get("code") if isinstance(reason, dict) else None
            chosen = [str(a["id"])[:64] for a in item.get("acceptedSuggestions") or []]
            detail = {
                "card": item["card"][:64], "outcome": item["outcome"],
                "override_reason": str(code)[:64] if code else "",
                "accepted_suggestions": ",".join(chosen[:20]),
            }  # fmt: skip
            if spent:
                await self._audit(FEEDBACK_EVENT, replace(who, jti=None), service_id, detail)
            elif not await self._audit(FEEDBACK_EVENT, who, service_id, detail):
                return REPLAYED
            spent = True
        return CdsAnswer({})
