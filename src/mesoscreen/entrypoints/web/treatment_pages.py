"""Treatment pages: the plan editor with its injection map, a saved plan and its signature,
recording a session and reporting an adverse event. All go through the records services,
which check roles and audit; plans are made and checked by the plan gate only (the editor's
preview and its save alike), and a stored plan is shown through ``read_summary`` so that a
malformed one gives an error panel, never a failed page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, tzinfo
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mesoscreen.domain.errors import ConflictError, ConsentRequiredError, InputError, PlanError
from mesoscreen.domain.planner.documents import PlanSummary, read_summary
from mesoscreen.domain.planner.formulary import Product
from mesoscreen.domain.planner.plan import PlannedTreatment, PlanRequest
from mesoscreen.domain.planner.request import request_from_json
from mesoscreen.domain.planner.safety import ScreeningConstraints
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import EventOutcome, RecordStatus, Screening
from mesoscreen.entrypoints.rendering.injection_map_svg import (
    CheckedScreening,
    render_injection_map,
)
from mesoscreen.entrypoints.web.kit import Form, PageKit, redirect
from mesoscreen.entrypoints.web.screening_pages import latest_completions
from mesoscreen.entrypoints.web.timeline import plan_summary
from mesoscreen.services.adverse_events import EventDetails
from mesoscreen.services.authentication import Authenticated
from mesoscreen.services.recording import FormKey
from mesoscreen.services.treatment_sessions import SessionDetails


def _moment(value: str, field: str, zone: tzinfo) -> datetime:
    """A datetime-local form value, read in the clinic's time zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"'{field}': expected a date and time (got '{value[:30]}')",
            problems=problem(Reason.NOT_A_MOMENT, field),
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _number(form: Form, field: str) -> float:
    value = form.get(field, "").strip().replace(",", ".")
    try:
        return float(value)
    except ValueError:
        raise InputError(
            f"'{field}': expected a number (got '{value[:30]}')",
            problems=problem(Reason.NOT_A_NUMBER, field),
        ) from None


def _day(form: Form, field: str) -> date | None:
    value = form.get(field, "")
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise InputError(
            f"'{field}': expected a date as YYYY-MM-DD (got '{value[:30]}')",
            problems=problem(Reason.NOT_A_DATE, field),
        ) from None


def _optional_number(form: Form, field: str) -> float | None:
    return _number(form, field) if form.get(field, "").strip() else None


def session_details(form: Form, zone: tzinfo) -> SessionDetails:
    """What the session form says was done; InputError naming a malformed field."""
    count = int(_number(form, "points"))
    if not 1 <= count <= 2000:
        raise InputError(
            f"'points': expected 1 to 2000 (got {count})",
            problems=problem(Reason.OUT_OF_RANGE, "points", low=1, high=2000, got=count, unit=""),
        )
    per_point = _number(form, "volume_per_point_ml")
    return SessionDetails(
        performed_at=_moment(form.get("performed_at", ""), "performed_at", zone),
        points=[{"number": n + 1, "volume_ml": per_point} for n in range(count)],
        products=[{"name": form.get("product", "").strip(),
                   "lot_number": form.get("lot_number", "").strip(),
                   "expiry": form.get("expiry", "")}],
        depth_mm=_number(form, "depth_mm"),
        plan_id=form.get("plan_id") or None,
        notes=form.get("notes", "").strip() or None,
    )  # fmt: skip


def event_details(form: Form, zone: tzinfo) -> EventDetails:
    """What the adverse-event form reports; InputError naming a malformed field."""
    try:
        outcome = EventOutcome(form.get("outcome", "unknown"))
    except ValueError:
        expected = ", ".join(o.value for o in EventOutcome)
        raise InputError(
            f"'outcome': expected one of {expected}",
            problems=problem(Reason.NOT_A_CHOICE, "outcome"),
        ) from None
    return EventDetails(
        onset_at=_moment(form.get("onset_at", ""), "onset_at", zone),
        severity_grade=int(_number(form, "severity_grade")),
        outcome=outcome,
        complication_id=form.get("complication_id") or None,
        description=form.get("description", "").strip() or None,
        session_id=form.get("session_id") or None,
        actions_taken=form.get("actions_taken", "").strip() or None,
        follow_up_on=_day(form, "follow_up_on"),
    )


def checked_screening(screening: Screening, passes: bool = True) -> CheckedScreening:
    """How the injection map names the stored screening a plan was checked against."""
    return CheckedScreening(screening.screening_date, screening.id[:8], passes)


def plan_request(form: Form, zone_ids: list[str], default_start: date) -> PlanRequest:
    """What the clinician asked for in the plan editor (volume per point and depth default to
    the product's)."""
    shallowest = _optional_number(form, "depth_min_mm")
    deepest = _optional_number(form, "depth_max_mm")
    depth = None
    if shallowest is not None or deepest is not None:
        if shallowest is None or deepest is None:
            raise PlanError("'depth_mm': give both the shallowest and the deepest depth",
                            field="depth_mm",
                            problems=problem(Reason.BOTH_DEPTHS_NEEDED, "depth_mm"))  # fmt: skip
        depth = (shallowest, deepest)
    return PlanRequest(
        zones=tuple(z for z in zone_ids if form.get(f"zone_{z}")),
        stage=form.get("stage") or None,
        spacing_cm=_number(form, "spacing_cm"),
        product=form.get("product", ""),
        first_session=_day(form, "start") or default_start,
        head_circumference_cm=_optional_number(form, "head_cm"),
        volume_per_point_ml=_optional_number(form, "volume_per_point_ml"),
        depth_mm=depth,
    )


def earliest_start(decision: Mapping[str, Any], today: date) -> date:
    """Today, or the screening's earliest date when that is later."""
    earliest = decision.get("earliest_date")
    try:
        later = date.fromisoformat(earliest) if isinstance(earliest, str) else today
    except ValueError:
        later = today
    return max(today, later)


def add_treatment_pages(router: APIRouter, kit: PageKit) -> None:
    """Register the plan, session and adverse-event routes on ``router``."""
    services = kit.services
    kb = services.screening.kb
    planner = services.planner
    atlas = planner.atlas

    def excluded_products(request: Request, a: Authenticated, screening: Screening,
                          products: list[Product], done: list[str]) -> dict[str, str]:  # fmt: skip
        """Why the screening rules out each product it rules out (the editor offers them
        disabled, with the reason); the gate refuses them all the same."""
        try:
            constraints = ScreeningConstraints.from_decision_json(screening.decision)
        except PlanError:
            return {}  # the gate says why on preview; the list cannot tell more
        t, language = kit.words(request, a), kit.language(request, a)
        refusals = {}
        for product in products:
            problems = constraints.excluded_by(product, done)
            if problems:  # said without the field's label: the list sits under the field
                refusals[product.id] = " ".join(
                    kit.refusals.sentence(replace(p, field=None), t, language) for p in problems
                )
        return refusals

    def plan_page(request: Request, a: Authenticated, screening_id: str, form: Form | None,
                  status: int = 200) -> Response:  # fmt: skip
        screening, _ = services.screenings.get(a.principal, screening_id)
        patient = services.patients.get(a.principal, screening.patient_id)
        recorded = services.actions.list_for_screening(a.principal, screening, limit=200)
        done = [c.action_id for c in latest_completions(recorded.items).values() if c.done]
        start = earliest_start(screening.decision, services.clock.today())
        products = list(planner.formulary.products.values())
        context: dict[str, Any] = {
            "screening": screening, "patient": patient, "form": form or {},
            "stages": list(atlas.stages.values()), "zones": list(atlas.zones.values()),
            "products": products,
            "excluded_products": excluded_products(request, a, screening, products, done),
            "formulary_notice": planner.formulary.notice if planner.formulary.review_required
            else None, "actions_done": done, "default_start": start,
        }  # fmt: skip
        if form is not None:
            try:
                asked = plan_request(form, list(atlas.zones), start)
                if form.get("save"):
                    return kit.created_once(
                        a, form, "plan",
                        lambda key: services.plans.create(a.principal, screening_id, asked,
                                                          key).id,
                        lambda made: f"/plans/{made}",
                    )  # fmt: skip
                plan = services.plans.preview(a.principal, screening_id, asked)
                svg = render_injection_map(plan, atlas, kit.language(request, a),
                                           screening=checked_screening(screening))  # fmt: skip
                context |= {"plan": plan, "svg": svg}
            except (InputError, ConflictError) as refused:
                context["error"] = kit.say(request, a, refused)
                status = 409 if isinstance(refused, ConflictError) else 400
        return kit.render(request, "plan.html", a, status, **context)

    @router.get("/screenings/{screening_id}/plan", response_model=None)
    def plan_form(request: Request, screening_id: str) -> Response:
        return kit.page(request, lambda a: plan_page(request, a, screening_id, None))

    @router.post("/screenings/{screening_id}/plan", response_model=None)
    async def plan_submit(request: Request, screening_id: str) -> Response:
        return await kit.form_page(
            request, lambda a, form: plan_page(request, a, screening_id, form)
        )

    def redrawn(document: object, summary: PlanSummary) -> PlannedTreatment | None:
        """The saved plan's geometry again from its request (the planner is deterministic);
        None when the request cannot be read or the planner now places other points."""
        try:
            asked = request_from_json(document.get("request") if isinstance(document, dict)
                                      else None)  # fmt: skip
            plan = planner.plan(asked, None)
        except InputError:
            return None
        return plan if len(plan.points) == summary.point_count else None

    @router.get("/plans/{plan_id}", response_model=None)
    def saved_plan(request: Request, plan_id: str) -> Response:
        def page(a: Authenticated) -> Response:
            plan, replaced, refused = services.plans.get_checked(a.principal, plan_id)
            refusal = kit.say(request, a, refused) if refused is not None else None
            patient = services.patients.get(a.principal, plan.patient_id)
            try:
                summary: PlanSummary | None = read_summary(plan.document)
            except PlanError as unreadable:
                summary, refusal = None, refusal or kit.say(request, a, unreadable)
            geometry = redrawn(plan.document, summary) if summary else None
            # The map names the plan's own screening, and says so when the gate now refuses it.
            screening = services.plans.screening_of(a.principal, plan)
            checked = checked_screening(screening, passes=refusal is None)
            svg = render_injection_map(geometry, atlas, kit.language(request, a),
                                       screening=checked) if geometry else None  # fmt: skip
            opened = services.plans.open(a.principal, plan_id)
            return kit.render(request, "plan_saved.html", a, plan=plan, summary=summary,
                              patient=patient, svg=svg, replaced=replaced,
                              refusal=refusal, void=opened.void,
                              replaced_by=opened.replaced_by)  # fmt: skip

        return kit.page(request, page)

    @router.post("/plans/{plan_id}/sign", response_model=None)
    async def sign_plan(request: Request, plan_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            services.plans.sign(a.principal, plan_id, int(_number(form, "version")))
            return redirect(f"/plans/{plan_id}")

        return await kit.form_page(request, page)

    def session_page(request: Request, a: Authenticated, patient_id: str, form: Form,
                     status: int = 200, error: str | None = None) -> Response:  # fmt: skip
        """The session form; it says at once when consent is missing, and links to it."""
        patient = services.patients.get(a.principal, patient_id)
        plans = [
            p for p in services.plans.list_for_patient(a.principal, patient_id).items
            if p.status == RecordStatus.SIGNED
        ]  # fmt: skip
        summaries = {p.id: plan_summary(p) for p in plans}
        chosen = next((p for p in plans if p.id == form.get("plan_id")), None)
        picked = summaries.get(chosen.id) if chosen is not None else None
        if picked is not None and "product" not in form:
            form = form | {
                "product": picked.product_name_in(kit.language(request, a).value),
                "points": str(picked.point_count),
                "volume_per_point_ml": str(picked.volume_per_point_ml),
                "depth_mm": str(round((picked.depth_mm[0] + picked.depth_mm[1]) / 2, 1)),
            }
        now = services.clock.now().astimezone(kit.zone(request))
        now = now.replace(second=0, microsecond=0, tzinfo=None)
        blocking = services.consents.session_blocker(a.principal, patient_id,
                                                     chosen.id if chosen else None)  # fmt: skip
        blocker = kit.say(request, a, blocking) if blocking is not None else None
        consent_link = (f"/screenings/{chosen.screening_id}/consent" if chosen
                        else f"/patients/{patient_id}#consents")  # fmt: skip
        return kit.render(request, "session.html", a, status, patient=patient, form=form,
                          plans=plans, summaries=summaries, error=error, now=now.isoformat(),
                          consent_blocker=blocker, consent_link=consent_link)  # fmt: skip

    @router.get("/patients/{patient_id}/sessions/new", response_model=None)
    def session_form(request: Request, patient_id: str, plan: str | None = None) -> Response:
        form = {"plan_id": plan} if plan else {}
        return kit.page(request, lambda a: session_page(request, a, patient_id, form))

    @router.post("/patients/{patient_id}/sessions/new", response_model=None)
    async def session_submit(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            return kit.created_once(a, form, "session", lambda key: create(a, form, key),
                                    lambda made: f"/sessions/{made}")  # fmt: skip

        def create(a: Authenticated, form: Form, key: FormKey | None) -> str | Response:
            try:
                details = session_details(form, kit.zone(request))
                return services.treatment_sessions.create(a.principal, patient_id, details, key).id
            except InputError as refused:
                return session_page(request, a, patient_id, form, 400, kit.say(request, a, refused))
            except ConsentRequiredError as refused:
                return session_page(request, a, patient_id, form, 409, kit.say(request, a, refused))

        return await kit.form_page(request, page)

    def event_page(request: Request, a: Authenticated, patient_id: str, form: Form,
                   error: str | None = None, status: int = 200) -> Response:  # fmt: skip
        patient = services.patients.get(a.principal, patient_id)
        sessions = services.treatment_sessions.list_for_patient(a.principal, patient_id).items
        return kit.render(request, "adverse_event.html", a, status, patient=patient, form=form,
                          complications=kb.complications, outcomes=list(EventOutcome),
                          sessions=list(reversed(sessions)), error=error,
                          emergencies=[c for c in kb.complications if c.emergency])  # fmt: skip

    @router.get("/patients/{patient_id}/adverse-events/new", response_model=None)
    def event_form(request: Request, patient_id: str) -> Response:
        return kit.page(request, lambda a: event_page(request, a, patient_id, {}))

    @router.post("/patients/{patient_id}/adverse-events/new", response_model=None)
    async def event_submit(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            return kit.created_once(a, form, "adverse_event", lambda key: create(a, form, key),
                                    lambda made: f"/adverse-events/{made}")  # fmt: skip

        def create(a: Authenticated, form: Form, key: FormKey | None) -> str | Response:
            try:
                details = event_details(form, kit.zone(request))
                return services.adverse_events.report(a.principal, patient_id, details, key).id
            except InputError as refused:
                return event_page(request, a, patient_id, form, kit.say(request, a, refused), 400)

        return await kit.form_page(request, page)
