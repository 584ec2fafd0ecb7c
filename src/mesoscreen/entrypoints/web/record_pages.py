"""A page of its own for each treatment session and adverse event: open it, change the draft,
sign it, correct it (a new version, as every signed record is corrected), void it when it was
entered in error, and resolve an adverse event with its outcome and date.

Plans keep their own page (``treatment_pages``); they are voided from it through the same
route. The services check roles (reception gets 403) and clinics (another clinic's record is
404), and audit every access.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mesoscreen.domain.errors import InputError
from mesoscreen.domain.records import AdverseEvent, EventOutcome, RecordStatus, TreatmentSession
from mesoscreen.entrypoints.web.kit import Form, PageKit, redirect
from mesoscreen.entrypoints.web.timeline import plan_summary
from mesoscreen.entrypoints.web.treatment_pages import event_details, session_details
from mesoscreen.services.adverse_events import ENDING_OUTCOMES
from mesoscreen.services.authentication import Authenticated
from mesoscreen.services.signable import SignableRecords


def _local(moment: datetime, zone: tzinfo) -> str:
    """A stored moment as a datetime-local field shows it, in the browser's time zone."""
    return moment.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None).isoformat()


def session_form(session: TreatmentSession, zone: tzinfo) -> Form:
    """The session form filled in from a stored session."""
    product = session.products[0] if session.products else {}
    first = session.points[0] if session.points else {}
    return {
        "plan_id": session.plan_id or "", "performed_at": _local(session.performed_at, zone),
        "product": str(product.get("name", "")), "lot_number": str(product.get("lot_number", "")),
        "expiry": str(product.get("expiry", "")), "points": str(len(session.points)),
        "volume_per_point_ml": str(first.get("volume_ml", "")),
        "depth_mm": str(session.depth_mm), "notes": session.notes or "",
    }  # fmt: skip


def event_form(event: AdverseEvent, zone: tzinfo) -> Form:
    """The adverse-event form filled in from a stored event."""
    return {
        "complication_id": event.complication_id or "", "session_id": event.session_id or "",
        "description": event.description or "", "onset_at": _local(event.onset_at, zone),
        "severity_grade": str(event.severity_grade), "actions_taken": event.actions_taken or "",
        "outcome": event.outcome,
        "follow_up_on": event.follow_up_on.isoformat() if event.follow_up_on else "",
    }  # fmt: skip


def _version(form: Form) -> int:
    value = form.get("version", "")
    if not value.isdigit():
        raise InputError(f"'version': expected the version the page showed (got '{value[:20]}')")
    return int(value)


def add_record_pages(router: APIRouter, kit: PageKit) -> None:
    """Register the session and adverse-event pages, and the sign, correct and void routes
    of sessions, adverse events and plans, on ``router``."""
    services = kit.services
    kb = services.screening.kb
    complications = {c.id: c for c in kb.complications}
    kinds: dict[str, SignableRecords[Any]] = {
        "sessions": services.treatment_sessions,
        "adverse-events": services.adverse_events,
        "plans": services.plans,
    }

    def record_page(request: Request, a: Authenticated, section: str, record_id: str,
                    status: int = 200, error: str | None = None) -> Response:  # fmt: skip
        opened = kinds[section].open(a.principal, record_id)
        record = opened.record
        patient = services.patients.get(a.principal, record.patient_id)
        context: dict[str, Any] = {
            "record": record, "patient": patient, "replaced_by": opened.replaced_by,
            "void": opened.void, "section": section, "error": error,
            "today": services.clock.today().isoformat(),
        }  # fmt: skip
        if section == "sessions":
            return kit.render(request, "session_record.html", a, status, **context)
        ending = [o.value for o in ENDING_OUTCOMES]
        return kit.render(request, "adverse_event_record.html", a, status, **context,
                          complication=complications.get(record.complication_id),
                          ending_outcomes=ending)  # fmt: skip

    for section in ("sessions", "adverse-events"):

        @router.get(f"/{section}/{{record_id}}", response_model=None)
        def show(request: Request, record_id: str, section: str = section) -> Response:
            return kit.page(request, lambda a: record_page(request, a, section, record_id))

    def edit_page(request: Request, a: Authenticated, section: str, record_id: str,
                  form: Form | None, status: int = 200, error: str | None = None,
                  ) -> Response:  # fmt: skip
        """The draft's form filled in (a signed record is refused by the service on save)."""
        record = kinds[section].open(a.principal, record_id).record
        patient = services.patients.get(a.principal, record.patient_id)
        zone = kit.zone(request)
        common = {"patient": patient, "error": error, "action": f"/{section}/{record_id}/edit",
                  "version": record.version}  # fmt: skip
        if section == "sessions":
            plans = [p for p in services.plans.list_for_patient(a.principal, patient.id).items
                     if p.status == RecordStatus.SIGNED]  # fmt: skip
            return kit.render(request, "session.html", a, status, **common,
                              form=form or session_form(record, zone), plans=plans,
                              summaries={p.id: plan_summary(p) for p in plans},
                              now=_local(record.performed_at, zone), consent_blocker=None,
                              consent_link="")  # fmt: skip
        sessions = services.treatment_sessions.list_for_patient(a.principal, patient.id).items
        return kit.render(request, "adverse_event.html", a, status, **common,
                          form=form or event_form(record, zone), complications=kb.complications,
                          outcomes=list(EventOutcome), sessions=list(reversed(sessions)),
                          emergencies=[])  # fmt: skip

    for section in ("sessions", "adverse-events"):

        @router.get(f"/{section}/{{record_id}}/edit", response_model=None)
        def edit_form(request: Request, record_id: str, section: str = section) -> Response:
            return kit.page(request, lambda a: edit_page(request, a, section, record_id, None))

        @router.post(f"/{section}/{{record_id}}/edit", response_model=None)
        async def edit_submit(request: Request, record_id: str, section: str = section,
                              ) -> Response:  # fmt: skip
            def page(a: Authenticated, form: Form) -> Response:
                try:
                    zone = kit.zone(request)
                    if section == "sessions":
                        changes: dict[str, Any] = vars_of(session_details(form, zone))
                        changes.pop("operator_id")
                    else:
                        changes = vars_of(event_details(form, zone))
                        changes["outcome"] = changes["outcome"].value
                    kinds[section].update(a.principal, record_id, _version(form), changes)
                except InputError as refused:
                    return edit_page(request, a, section, record_id, form, 400, str(refused))
                return redirect(f"/{section}/{record_id}")

            return await kit.form_page(request, page)

    for section in kinds:
        if section != "plans":

            @router.post(f"/{section}/{{record_id}}/sign", response_model=None)
            async def sign(request: Request, record_id: str, section: str = section) -> Response:
                def page(a: Authenticated, form: Form) -> Response:
                    kinds[section].sign(a.principal, record_id, _version(form))
                    return redirect(f"/{section}/{record_id}")

                return await kit.form_page(request, page)

            @router.post(f"/{section}/{{record_id}}/amend", response_model=None)
            async def amend(request: Request, record_id: str, section: str = section) -> Response:
                def page(a: Authenticated, form: Form) -> Response:
                    draft = kinds[section].amend(a.principal, record_id)
                    return redirect(f"/{section}/{draft.id}/edit")

                return await kit.form_page(request, page)

        @router.post(f"/{section}/{{record_id}}/void", response_model=None)
        async def void(request: Request, record_id: str, section: str = section) -> Response:
            def page(a: Authenticated, form: Form) -> Response:
                try:
                    kinds[section].void(a.principal, record_id, form.get("reason", ""))
                except InputError as refused:
                    if section == "plans":
                        raise
                    return record_page(request, a, section, record_id, 400, str(refused))
                return redirect(f"/{section}/{record_id}")

            return await kit.form_page(request, page)

    @router.post("/adverse-events/{event_id}/resolve", response_model=None)
    async def resolve(request: Request, event_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            try:
                outcome = EventOutcome(form.get("outcome", ""))
                resolved_on = datetime.strptime(form.get("resolved_on", ""), "%Y-%m-%d").date()
            except ValueError:
                return record_page(request, a, "adverse-events", event_id, 400,
                                   "'outcome' and 'resolved_on': expected how the event ended "
                                   "and the day, as YYYY-MM-DD")  # fmt: skip
            try:
                resolved = services.adverse_events.resolve(a.principal, event_id, _version(form),
                                                           outcome, resolved_on)  # fmt: skip
            except InputError as refused:
                return record_page(request, a, "adverse-events", event_id, 400, str(refused))
            return redirect(f"/adverse-events/{resolved.id}")

        return await kit.form_page(request, page)


def vars_of(details: Any) -> dict[str, Any]:
    """The fields of a details dataclass as the changes of an edit."""
    return {name: getattr(details, name) for name in details.__dataclass_fields__}
