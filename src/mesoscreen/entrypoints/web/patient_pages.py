"""Patients: the list with search, registering a new patient, each patient's timeline, and the
clinic's worklist of follow-ups due.

Reception staff find and register patients; the timeline's clinical records are listed only
for roles that may read them (the services refuse the others, and the page then shows the
demographics alone).
"""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mesoscreen.domain.access import Permission
from mesoscreen.domain.errors import InputError, PermissionDeniedError
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.entrypoints.web.kit import Form, PageKit, redirect
from mesoscreen.entrypoints.web.outcome_pages import trend_charts
from mesoscreen.entrypoints.web.timeline import build_timeline
from mesoscreen.services.authentication import Authenticated
from mesoscreen.services.patients import PatientDetails

SEARCH_LIMIT = 50
SEXES = ("female", "male", "other")


def _details(form: Form) -> PatientDetails:
    """The patient's details from the form; InputError naming a malformed field."""
    born = form.get("birth_date", "")
    try:
        birth_date = date.fromisoformat(born) if born else None
    except ValueError:
        raise InputError(
            f"'birth_date': expected a date as YYYY-MM-DD (got '{born}')",
            problems=problem(Reason.NOT_A_DATE, "birth_date"),
        ) from None
    sex = form.get("sex") or None
    if sex is not None and sex not in SEXES:
        raise InputError(
            f"'sex': expected one of {', '.join(SEXES)} (got '{sex}')",
            problems=problem(Reason.NOT_A_CHOICE, "sex"),
        )
    language = form.get("language") or None
    return PatientDetails(
        family_name=form.get("family_name", "").strip(),
        given_name=form.get("given_name", "").strip(),
        birth_date=birth_date,
        sex=sex,
        phone=form.get("phone", "").strip() or None,
        language=language,
    )


def add_patient_pages(router: APIRouter, kit: PageKit) -> None:
    """Register the patient list, the new-patient form and the timeline on ``router``."""
    services = kit.services

    @router.get("/patients", response_model=None)
    def patient_list(request: Request, q: str | None = None) -> Response:
        def page(a: Authenticated) -> Response:
            query = (q or "").strip()[:100] or None
            found = services.patients.search(a.principal, query, limit=SEARCH_LIMIT)
            return kit.render(request, "patients.html", a, patients=found.items,
                              total=found.total, q=query)  # fmt: skip

        return kit.page(request, page)

    def new_patient_page(
        request: Request, a: Authenticated, form: Form, status: int = 200, error: str = ""
    ) -> Response:
        # A role that may not register patients is refused the form itself (403), not only
        # its Save: nobody types a patient's details into a form that cannot be saved.
        if not a.principal.can(Permission.PATIENT_WRITE):
            raise PermissionDeniedError(
                f"role '{a.principal.role.value}': not allowed to {Permission.PATIENT_WRITE.value}"
            )
        # One key per form shown: submitting the same form twice registers one patient.
        key = f"form-{uuid.uuid4()}"
        return kit.render(request, "patient_new.html", a, status, form=form, error=error,
                          idempotency_key=key, sexes=SEXES)  # fmt: skip

    @router.get("/patients/new", response_model=None)
    def new_patient_form(request: Request) -> Response:
        return kit.page(request, lambda a: new_patient_page(request, a, {}))

    @router.post("/patients/new", response_model=None)
    async def new_patient(request: Request) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            clinics = sorted(a.principal.clinic_ids)
            try:
                details = _details(form)
                if not clinics:
                    raise PermissionDeniedError("user: belongs to no clinic")
                key = form.get("idempotency_key") or None
                patient = services.patients.register(a.principal, clinics[0], details, key)
            except InputError as refused:
                return new_patient_page(request, a, form, 400, kit.say(request, a, refused))
            return redirect(f"/patients/{patient.id}")

        return await kit.form_page(request, page)

    @router.get("/worklist", response_model=None)
    def worklist(request: Request) -> Response:
        """Overdue follow-ups, then what falls due in the coming week."""

        def page(a: Authenticated) -> Response:
            items = services.follow_ups.worklist(a.principal, services.clock.today(), 7)
            overdue = [i for i in items if i.overdue]
            upcoming = [i for i in items if not i.overdue]
            return kit.render(request, "worklist.html", a, overdue=overdue, upcoming=upcoming)

        return kit.page(request, page)

    @router.get("/patients/{patient_id}", response_model=None)
    def patient_page(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated) -> Response:
            patient = services.patients.get(a.principal, patient_id)
            principal = a.principal
            try:
                timeline = build_timeline(
                    services.screenings.list_for_patient(principal, patient_id).items,
                    services.plans.list_for_patient(principal, patient_id).items,
                    services.treatment_sessions.list_for_patient(principal, patient_id).items,
                    services.adverse_events.list_for_patient(principal, patient_id).items,
                )
                measures = services.outcome_measures.list_for_patient(principal, patient_id)
                charts = trend_charts(
                    services.outcome_measures.trends_of(measures),
                    kit.language(request, a),
                    kit.words(request, a),
                )
                consents = services.consents.list_for_patient(principal, patient_id)
                voided = services.treatment_sessions.voided_ids(principal, patient_id)
                clinical = True
            except PermissionDeniedError:
                timeline, clinical, charts, consents = [], False, [], []
                voided = frozenset()
            complications = {c.id: c for c in services.screening.kb.complications}
            return kit.render(request, "patient.html", a, patient=patient, timeline=timeline,
                              clinical=clinical, complications=complications,
                              charts=charts, consents=consents, voided=voided)  # fmt: skip

        return kit.page(request, page)
