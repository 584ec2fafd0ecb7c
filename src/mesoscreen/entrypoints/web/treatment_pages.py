"""Treatment pages: sign a screening, plan with the injection map, record a session, report an
adverse event. Each goes through the records services, which check roles and audit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mesoscreen.bootstrap import Services
from mesoscreen.domain.errors import InputError
from mesoscreen.domain.planner.plan import PlanRequest
from mesoscreen.domain.records import EventOutcome
from mesoscreen.entrypoints.rendering.injection_map_svg import render_injection_map
from mesoscreen.entrypoints.web.kit import PageKit
from mesoscreen.knowledge.planning_loader import default_atlas, load_formulary
from mesoscreen.services.adverse_events import EventDetails
from mesoscreen.services.authentication import Authenticated
from mesoscreen.services.planning import PlanningService
from mesoscreen.services.treatment_sessions import SessionDetails


def _moment(value: str, field: str) -> datetime:
    """A datetime-local form value (the clinic's local time, stored as UTC)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"'{field}': expected a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(form: dict[str, str], field: str) -> float:
    try:
        return float(form.get(field, ""))
    except ValueError:
        raise InputError(f"'{field}': expected a number") from None


def add_treatment_pages(router: APIRouter, services: Services, kit: PageKit) -> None:
    """Register the treatment pages on ``router``."""
    kb = services.screening.kb
    atlas = default_atlas()
    planner = PlanningService(atlas, load_formulary(kb=kb))

    @router.post("/screenings/{screening_id}/sign", response_model=None)
    async def sign_screening(request: Request, screening_id: str) -> Response:
        def page(a: Authenticated, form: dict[str, str]) -> Response:
            version = int(form.get("version", "0") or 0)
            services.screenings.sign(a.principal, screening_id, version)
            return RedirectResponse(f"/screenings/{screening_id}", status_code=303)

        return await kit.handle_post(request, page)

    def plan_page(request: Request, a: Authenticated, screening_id: str,
                  form: dict[str, str] | None, status: int = 200) -> Response:  # fmt: skip
        screening, _ = services.screenings.get(a.principal, screening_id)
        patient = services.patients.get(a.principal, screening.patient_id)
        lang = kit.language(request)
        context: dict[str, Any] = {
            "screening": screening, "patient": patient, "form": form or {},
            "stages": list(atlas.stages.values()), "zones": list(atlas.zones.values()),
            "products": list(planner.formulary.products.values()),
        }  # fmt: skip
        if form is not None:
            try:
                start = form.get("start") or services.clock.today().isoformat()
                request_ = PlanRequest(
                    zones=tuple(z for z in atlas.zones if form.get(f"zone_{z}")),
                    stage=form.get("stage") or None,
                    spacing_cm=_number(form, "spacing_cm"),
                    product=form.get("product", ""),
                    first_session=date.fromisoformat(start),
                    head_circumference_cm=_number(form, "head_cm") if form.get("head_cm") else None,
                )  # fmt: skip
                plan = planner.plan(
                    request_, screening.decision, form.get("actions_done", "").split()
                )
                context["plan"] = plan
                context["svg"] = render_injection_map(plan, atlas, lang)
                if form.get("save"):
                    saved = services.plans.create(a.principal, screening_id, plan.as_dict())
                    return RedirectResponse(f"/patients/{saved.patient_id}", status_code=303)
            except (InputError, ValueError) as exc:
                context["error"] = str(exc)
                status = 400
        return kit.render(request, "plan.html", a, status, **context)

    @router.get("/screenings/{screening_id}/plan", response_model=None)
    def plan_form(request: Request, screening_id: str) -> Response:
        return kit.guarded(request, lambda a: plan_page(request, a, screening_id, None))

    @router.post("/screenings/{screening_id}/plan", response_model=None)
    async def plan_submit(request: Request, screening_id: str) -> Response:
        return await kit.handle_post(
            request, lambda a, form: plan_page(request, a, screening_id, form)
        )

    @router.get("/patients/{patient_id}/sessions/new", response_model=None)
    def session_form(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated) -> Response:
            patient = services.patients.get(a.principal, patient_id)
            return kit.render(request, "session.html", a, patient=patient, form={})

        return kit.guarded(request, page)

    @router.post("/patients/{patient_id}/sessions/new", response_model=None)
    async def session_submit(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated, form: dict[str, str]) -> Response:
            patient = services.patients.get(a.principal, patient_id)
            try:
                count = int(_number(form, "points"))
                per_point = _number(form, "volume_per_point_ml")
                details = SessionDetails(
                    performed_at=_moment(form.get("performed_at", ""), "performed_at"),
                    points=[{"number": n + 1, "volume_ml": per_point} for n in range(count)],
                    products=[{"name": form.get("product", "").strip(),
                               "lot_number": form.get("lot_number", "").strip(),
                               "expiry": form.get("expiry", "")}],
                    depth_mm=_number(form, "depth_mm"),
                    notes=form.get("notes") or None,
                )  # fmt: skip
                services.treatment_sessions.create(a.principal, patient_id, details)
            except (InputError, ValueError, KeyError) as exc:
                return kit.render(request, "session.html", a, 400, patient=patient,
                                  form=form, error=str(exc))  # fmt: skip
            return RedirectResponse(f"/patients/{patient_id}", status_code=303)

        return await kit.handle_post(request, page)

    def event_page(request: Request, a: Authenticated, patient_id: str, form: dict[str, str],
                   error: str | None = None, status: int = 200) -> Response:  # fmt: skip
        patient = services.patients.get(a.principal, patient_id)
        return kit.render(request, "adverse_event.html", a, status, patient=patient, form=form,
                          complications=kb.complications, outcomes=list(EventOutcome),
                          error=error)  # fmt: skip

    @router.get("/worklist", response_model=None)
    def worklist(request: Request) -> Response:
        """Overdue follow-ups, then what falls due in the coming week."""

        def page(a: Authenticated) -> Response:
            items = services.follow_ups.worklist(a.principal, services.clock.today(), 7)
            overdue = [i for i in items if i.overdue]
            upcoming = [i for i in items if not i.overdue]
            return kit.render(request, "worklist.html", a, overdue=overdue, upcoming=upcoming)

        return kit.guarded(request, page)

    @router.get("/patients/{patient_id}/adverse-events/new", response_model=None)
    def event_form(request: Request, patient_id: str) -> Response:
        return kit.guarded(request, lambda a: event_page(request, a, patient_id, {}))

    @router.post("/patients/{patient_id}/adverse-events/new", response_model=None)
    async def event_submit(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated, form: dict[str, str]) -> Response:
            try:
                follow_up = form.get("follow_up_on")
                details = EventDetails(
                    onset_at=_moment(form.get("onset_at", ""), "onset_at"),
                    severity_grade=int(_number(form, "severity_grade")),
                    outcome=EventOutcome(form.get("outcome", "unknown")),
                    complication_id=form.get("complication_id") or None,
                    description=form.get("description") or None,
                    actions_taken=form.get("actions_taken") or None,
                    follow_up_on=date.fromisoformat(follow_up) if follow_up else None,
                )
                services.adverse_events.report(a.principal, patient_id, details)
            except (InputError, ValueError) as exc:
                return event_page(request, a, patient_id, form, str(exc), 400)
            return RedirectResponse(f"/patients/{patient_id}", status_code=303)

        return await kit.handle_post(request, page)
