"""Outcome measures: the patient's trend charts and measures, and the form to record one.

The charts are drawn on the server as SVG (no script, no build step); the patient's page
shows them too, through ``trend_charts``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mesoscreen.domain.errors import InputError
from mesoscreen.domain.outcomes import Measurements, Trend
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.rendering.trend_chart_svg import trend_chart_svg
from mesoscreen.entrypoints.web.i18n import format_date, format_number
from mesoscreen.entrypoints.web.kit import Form, PageKit
from mesoscreen.services.authentication import Authenticated
from mesoscreen.services.outcome_measures import OutcomeDetails
from mesoscreen.services.recording import FormKey


def trend_charts(trends: list[Trend], language: Language, words: Any) -> list[str]:
    """One SVG chart per trended measure, labelled in ``language``."""

    def day(value: date) -> str:
        return format_date(value, language)

    charts = []
    for trend in trends:
        decimals = 0 if trend.measure.labels is not None else 1

        def number(value: float, places: int = decimals) -> str:
            return format_number(value, language, places)

        title = trend.measure.name.in_language(language)
        if trend.change is not None:
            sign = "+" if trend.change > 0 else ""
            title += f" ({sign}{number(trend.change)} {words['since_first']})"
        charts.append(trend_chart_svg(trend, title, day, number, words["normal_range"]))
    return charts


def _optional_number(form: Form, field: str, whole: bool = False) -> float | None:
    value = form.get(field, "").strip().replace(",", ".")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise InputError(
            f"'{field}': expected a number (got '{value[:30]}')",
            problems=problem(Reason.NOT_A_NUMBER, field),
        ) from None
    if whole and not number.is_integer():
        raise InputError(
            f"'{field}': expected a whole number (got '{value[:30]}')",
            problems=problem(Reason.NOT_A_NUMBER, field),
        )
    return number


def _details(form: Form) -> OutcomeDetails:
    """The measure from the form; InputError naming a malformed field."""
    day = form.get("measured_on", "")
    try:
        measured_on = date.fromisoformat(day)
    except ValueError:
        raise InputError(
            f"'measured_on': expected a date as YYYY-MM-DD (got '{day[:30]}')",
            problems=problem(Reason.NOT_A_DATE, "measured_on"),
        ) from None
    count = _optional_number(form, "hair_count", whole=True)
    assessed = _optional_number(form, "self_assessment", whole=True)
    measured = Measurements(
        hair_count=None if count is None else int(count),
        area_cm2=_optional_number(form, "area_cm2") if count is not None else None,
        shaft_thickness_um=_optional_number(form, "shaft_thickness_um"),
        self_assessment=None if assessed is None else int(assessed),
    )
    return OutcomeDetails(
        measured_on=measured_on,
        measurements=measured,
        session_id=form.get("session_id") or None,
        note=form.get("note", "").strip()[:2000] or None,
    )


def add_outcome_pages(router: APIRouter, kit: PageKit) -> None:
    """Register the outcome measures page and its form on ``router``."""
    services = kit.services

    def outcomes_page(
        request: Request,
        a: Authenticated,
        patient_id: str,
        form: Form | None = None,
        status: int = 200,
        error: str = "",
    ) -> Response:
        patient = services.patients.get(a.principal, patient_id)
        measures = services.outcome_measures.list_for_patient(a.principal, patient_id)
        sessions = services.treatment_sessions.list_for_patient(a.principal, patient_id).items
        scales = services.outcome_measures.scales
        lang = kit.language(request, a)
        charts = trend_charts(
            services.outcome_measures.trends_of(measures), lang, kit.words(request, a)
        )
        defaults = {"measured_on": services.clock.today().isoformat(),
                    "area_cm2": f"{scales['area_cm2'].default or ''}"}  # fmt: skip
        return kit.render(request, "outcomes.html", a, status, patient=patient,
                          measures=list(reversed(measures)), sessions=sessions, charts=charts,
                          scales=scales, form=form or defaults, error=error)  # fmt: skip

    @router.get("/patients/{patient_id}/outcomes", response_model=None)
    def outcomes(request: Request, patient_id: str) -> Response:
        return kit.page(request, lambda a: outcomes_page(request, a, patient_id))

    @router.post("/patients/{patient_id}/outcomes", response_model=None)
    async def record_outcome(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            def create(key: FormKey | None) -> str | Response:
                try:
                    return services.outcome_measures.record(a.principal, patient_id,
                                                            _details(form), key).id  # fmt: skip
                except InputError as refused:
                    return outcomes_page(
                        request, a, patient_id, form, 400, kit.say(request, a, refused)
                    )

            return kit.created_once(a, form, "outcome", create,
                                    lambda _: f"/patients/{patient_id}/outcomes")  # fmt: skip

        return await kit.form_page(request, page)
