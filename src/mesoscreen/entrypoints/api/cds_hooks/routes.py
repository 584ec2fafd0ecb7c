"""``/cds-services``: discovery, the three hook services, and feedback into the audit trail."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from mesoscreen.bootstrap import intake_reader
from mesoscreen.config import Settings
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.domain.errors import HookRequestError, MesoscreenError, NotFoundError
from mesoscreen.entrypoints.api.cds_hooks.cards import cards_for
from mesoscreen.entrypoints.api.cds_hooks.definitions import SERVICES, discovery
from mesoscreen.entrypoints.api.cds_hooks.record import (
    RecordUnavailableError,
    gather_record,
    is_fhir_id,
)
from mesoscreen.entrypoints.api.cds_hooks.tokens import (
    CdsCaller,
    TokenRejectedError,
    verify_token,
)
from mesoscreen.entrypoints.api.problems import error_response, status_for
from mesoscreen.services.ports import AuditLog, Clock, TerminologyService, TokenReplayGuard
from mesoscreen.services.screening import ScreeningService

FEEDBACK_OUTCOMES = ("accepted", "overridden")


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


def _mesotherapy_orders(hook: str, context: Mapping[str, Any], codes: set[str]) -> list[str]:
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


def _feedback_problem(items: object) -> str | None:
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


def _json(content: dict[str, Any]) -> Response:
    """A JSON answer encoded once by orjson (the record system waits on every hook call)."""
    return Response(orjson.dumps(content), media_type="application/json")


def build_cds_router(
    settings: Settings,
    screening: ScreeningService,
    audit_log: AuditLog,
    replay_guard: TokenReplayGuard,
    clock: Clock,
    transport: httpx.BaseTransport | None = None,
    terminology: TerminologyService | None = None,
) -> APIRouter:
    """The CDS Hooks endpoints, screening with ``screening`` and auditing to ``audit_log``;
    ``terminology`` (optional) places SNOMED CT concepts the shipped value sets lack."""
    router = APIRouter(prefix="/cds-services", tags=["cds-hooks"])
    intakes = intake_reader(screening.kb, terminology)
    codes = set(settings.cds_mesotherapy_codes)

    def caller(request: Request) -> CdsCaller:
        if settings.cds_development_mode:
            return CdsCaller("development-mode", development=True)
        base = settings.cds_link_base.rstrip("/") if settings.cds_link_base else None
        audience = f"{base}{request.url.path}" if base else str(request.url.replace(query=""))
        return verify_token(
            request.headers.get("authorization"),
            audience,
            dict(settings.cds_clients),
            clock.now,
            transport,
        )

    async def audit(
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
            recorded_at=clock.now(),
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
            await run_in_threadpool(audit_log.append, entry)
            return True
        now = clock.now()
        if await replay_guard.record_call(who.issuer, who.jti, who.expires_at, now, entry):
            return True
        denied = replace(entry, outcome=AuditOutcome.DENIED,
                         detail={**entry.detail, "refused": "replayed token"})  # fmt: skip
        await run_in_threadpool(audit_log.append, denied)
        return False

    def replayed(path: str) -> JSONResponse:
        return refused(TokenRejectedError("token refused: this jti was already used"), path)

    async def failed(
        who: CdsCaller, service_id: str, error: MesoscreenError, path: str
    ) -> JSONResponse:
        """Refuse an authenticated call, spending its token and auditing the refusal."""
        event = "cds.feedback" if path.endswith("/feedback") else "cds.hook"
        if not await audit(event, who, service_id, {"refused": error.code}, AuditOutcome.FAILURE):
            return replayed(path)
        return refused(error, path)

    def refused(error: MesoscreenError, path: str) -> JSONResponse:
        """The OperationOutcome of ``error`` as the error table maps it (a missing record is
        412 'incomplete', as the specification's)."""
        bearer = status_for(error) == 401
        headers = {"WWW-Authenticate": 'Bearer realm="cds-services"'} if bearer else None
        return error_response(error, path, headers)

    async def accepted(service_id: str, request: Request) -> tuple[CdsCaller, Any] | JSONResponse:
        """The caller and the JSON body of a call to a known service, or why it is refused."""
        path = request.url.path
        if service_id not in SERVICES:
            return refused(NotFoundError(f"no CDS service {service_id!r}"), path)
        try:
            # Off the event loop: a jku key set may be fetched over the network.
            who = await run_in_threadpool(caller, request)
        except TokenRejectedError as exc:
            # Refusals are audited too (who tried, why); there is no token to spend.
            event = "cds.feedback" if path.endswith("/feedback") else "cds.hook"
            stranger = CdsCaller("unauthenticated")
            reason = {"refused": "token", "reason": str(exc)[:200]}
            await audit(event, stranger, service_id, reason, AuditOutcome.DENIED)
            return refused(exc, path)
        try:
            return who, await request.json()
        except (ValueError, RecursionError):
            unreadable = HookRequestError(
                "the body is not JSON (or nested too deeply)", code="invalid_json"
            )
            return await failed(who, service_id, unreadable, path)

    @router.get("")
    def cds_discovery() -> dict[str, Any]:
        """The services, their hooks and their prefetch templates."""
        return discovery()

    @router.post("/{service_id}", response_model=None)
    async def call_service(service_id: str, request: Request) -> Response:
        """Screen the patient of the hook request against the record; answer with cards."""
        path = request.url.path
        opened = await accepted(service_id, request)
        if isinstance(opened, JSONResponse):
            return opened
        who, body = opened
        hook = SERVICES[service_id]["hook"]
        try:
            if not isinstance(body, dict):
                raise HookRequestError("the body must be a JSON object")
            if body.get("hook") != hook:
                raise HookRequestError(f"'hook': expected {hook!r} for this service")
            if not isinstance(body.get("hookInstance"), str):
                raise HookRequestError("'hookInstance': expected a string")
            context = body.get("context")
            if not isinstance(context, dict) or not is_fhir_id(context.get("patientId")):
                raise HookRequestError("'context.patientId': expected a FHIR id")
            orders = _mesotherapy_orders(hook, context, codes)
        except HookRequestError as exc:
            return await failed(who, service_id, exc, path)
        if not orders:
            detail = {"hook": hook, "hook_instance": body["hookInstance"][:64],
                      "outcome": "not-mesotherapy"}  # fmt: skip
            recorded = await audit("cds.hook", who, service_id, detail)
            return _json({"cards": []}) if recorded else replayed(path)
        patient_id = context["patientId"]
        try:
            resources = await run_in_threadpool(
                gather_record, body, patient_id, transport, settings.cds_development_mode
            )
        except RecordUnavailableError as exc:
            return await failed(who, service_id, exc, path)
        today = clock.today()
        given = intakes.read_record(resources, today, patient_id)
        if given.deceased is not None:
            # The record shows the patient has died: no screening, so no treatment cards.
            detail = {"hook": hook, "hook_instance": body["hookInstance"][:64],
                      "patient": patient_id[:64], "outcome": "not-screened-deceased"}  # fmt: skip
            recorded = await audit("cds.hook", who, service_id, detail)
            return _json({"cards": []}) if recorded else replayed(path)
        decision = screening.screen(given.answers, today)
        link = f"{(settings.cds_link_base or str(request.base_url)).rstrip('/')}/patients"
        drafts = orders if hook != "appointment-book" else []
        cards = cards_for(decision, screening.kb, drafts, link, f"Patient/{patient_id}")
        detail = {
            "hook": hook, "hook_instance": body["hookInstance"][:64],
            "patient": patient_id[:64], "outcome": decision.outcome.value,
            "cards": ",".join(c["uuid"] for c in cards),
        }  # fmt: skip
        recorded = await audit("cds.hook", who, service_id, detail)
        return _json({"cards": cards}) if recorded else replayed(path)

    @router.post("/{service_id}/feedback", response_model=None)
    async def feedback(service_id: str, request: Request) -> JSONResponse | dict[str, Any]:
        """Record which cards were accepted or overridden, and why, in the audit trail."""
        path = request.url.path
        opened = await accepted(service_id, request)
        if isinstance(opened, JSONResponse):
            return opened
        who, body = opened
        items = body.get("feedback") if isinstance(body, dict) else None
        problem = _feedback_problem(items)
        if problem is not None:
            invalid = HookRequestError(problem, code="invalid_feedback")
            return await failed(who, service_id, invalid, path)
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
                await audit("cds.feedback", replace(who, jti=None), service_id, detail)
            elif not await audit("cds.feedback", who, service_id, detail):
                return replayed(path)
            spent = True
        return {}

    return router
