"""The intake questionnaire, the screening result, its patient handout, signing, and recording a
required action as done. Every read and write goes through the screening records service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mesoscreen.domain.consent import ConsentTemplate
from mesoscreen.domain.errors import InputError
from mesoscreen.domain.knowledge_base import KnowledgeBase
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import ActionCompletion, ActionResult
from mesoscreen.domain.vocabulary import Outcome
from mesoscreen.entrypoints.web.intake_form import intake_from_form, questionnaire
from mesoscreen.entrypoints.web.kit import Form, PageKit, redirect
from mesoscreen.services.authentication import Authenticated
from mesoscreen.services.recording import FormKey
from mesoscreen.services.required_actions import RESULTS_BY_KIND, ActionReport


def blocking_steps_recorded(
    decision: Mapping[str, Any], completions: Mapping[str, ActionCompletion]
) -> bool:
    """Whether every step the decision requires before treatment is recorded as done (the
    banner then no longer says they are needed), and there was at least one."""
    blocking = [str(a["id"]) for a in decision.get("required_actions", [])
                if a.get("blocks_treatment", True)]  # fmt: skip
    return bool(blocking) and all(a in completions and completions[a].done for a in blocking)


def latest_completions(completions: tuple[ActionCompletion, ...]) -> dict[str, ActionCompletion]:
    """The latest recorded result of each required action (the one that counts)."""
    latest: dict[str, ActionCompletion] = {}
    for completion in sorted(completions, key=lambda c: c.recorded_at):
        latest[completion.action_id] = completion
    return latest


# Consent sections the handout repeats, word for word, and the risk tag they warn about: shown
# while an ingredient of that tag may still be used (not ruled out without condition).
HANDOUT_WARNINGS = {"antiandrogens": "antiandrogen"}


def handout_warnings(
    template: ConsentTemplate, kb: KnowledgeBase, decision: Mapping[str, Any], language: str
) -> list[dict[str, Any]]:
    """The consent template's warning sections this patient's handout must carry."""
    if decision.get("outcome") == Outcome.CONTRAINDICATED.value:
        return []
    ruled_out = {
        str(e.get("ingredient"))
        for e in decision.get("excluded_ingredients", [])
        if not e.get("lifted_by")
    }
    warnings = []
    for section in template.sections:
        tag = HANDOUT_WARNINGS.get(section.id)
        members = {i.id for i in kb.ingredients if tag in i.tags}
        if tag is None or not members - ruled_out:
            continue
        warnings.append({
            "heading": section.heading.in_language(language),
            "paragraphs": [p.in_language(language) for p in section.paragraphs],
        })  # fmt: skip
    return warnings


def add_screening_pages(router: APIRouter, kit: PageKit) -> None:
    """Register the intake, result, handout, signing and action routes on ``router``."""
    services = kit.services
    kb = services.screening.kb

    def intake_page(
        request: Request,
        a: Authenticated,
        patient_id: str,
        status: int = 200,
        error: str | None = None,
        given: Mapping[str, object] | None = None,
    ) -> Response:
        patient = services.patients.get(a.principal, patient_id)
        # Showing the intake is reading clinical data: the service checks the role and audits.
        services.screenings.list_for_patient(a.principal, patient_id, limit=1)
        prefill: dict[str, object] = dict(patient.intake)
        prefill.update({"sex": patient.sex, "birth_date": patient.birth_date})
        prefill.update(given or {})
        language = kit.language(request, a)
        sections = questionnaire(kb, language, kit.words(request, a), prefill)
        return kit.render(request, "intake.html", a, status, patient=patient, sections=sections,
                          error=error, today=services.clock.today().isoformat())  # fmt: skip

    @router.get("/patients/{patient_id}/intake", response_model=None)
    def intake_form(request: Request, patient_id: str) -> Response:
        return kit.page(request, lambda a: intake_page(request, a, patient_id))

    @router.post("/patients/{patient_id}/intake", response_model=None)
    async def submit_intake(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            answers = intake_from_form(form, kb)

            def create(key: FormKey | None) -> str | Response:
                try:
                    return services.screenings.screen_intake(a.principal, patient_id, answers,
                                                             key).id  # fmt: skip
                except InputError as refused:
                    return intake_page(
                        request, a, patient_id, 400, kit.say(request, a, refused), answers
                    )

            return kit.created_once(a, form, "screening", create,
                                    lambda made: f"/screenings/{made}")  # fmt: skip

        return await kit.form_page(request, page)

    def screening_context(a: Authenticated, screening_id: str, request: Request) -> dict[str, Any]:
        screening, replaced = services.screenings.get(a.principal, screening_id)
        patient = services.patients.get(a.principal, screening.patient_id)
        language = kit.language(request, a)
        texts = {q.id: q.text.in_language(language) for q in kb.questions}
        decision = screening.decision
        missing = [texts.get(str(m), str(m)) for m in decision.get("missing", [])]
        unused = [texts.get(str(m), str(m)) for m in decision.get("not_applicable_answers", [])]
        return {
            "screening": screening,
            "replaced": replaced,
            "patient": patient,
            "d": decision,
            "missing": missing,
            "not_applicable": unused,
            "permits_treatment": Outcome(screening.outcome).permits_treatment,
        }

    @router.get("/screenings/{screening_id}", response_model=None)
    def screening_page(request: Request, screening_id: str) -> Response:
        def page(a: Authenticated) -> Response:
            context = screening_context(a, screening_id, request)
            done = services.actions.list_for_screening(a.principal, context["screening"], limit=200)
            results = {
                kind: sorted(r.value for r in allowed) for kind, allowed in RESULTS_BY_KIND.items()
            }
            completions = latest_completions(done.items)
            return kit.render(request, "screening.html", a, **context,
                              completions=completions, results=results,
                              steps_recorded=blocking_steps_recorded(context["d"], completions),
                              today=services.clock.today().isoformat())  # fmt: skip

        return kit.page(request, page)

    @router.get("/screenings/{screening_id}/handout", response_model=None)
    def handout_page(request: Request, screening_id: str) -> Response:
        def page(a: Authenticated) -> Response:
            context = screening_context(a, screening_id, request)
            template = services.consents.current_template()
            language = kit.language(request, a).value
            warnings = handout_warnings(template, kb, context["d"], language)
            return kit.render(
                request, "handout.html", a, **context, warnings=warnings, patient_header=False
            )

        return kit.page(request, page)

    @router.post("/screenings/{screening_id}/sign", response_model=None)
    async def sign_screening(request: Request, screening_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            version = form.get("version", "")
            if not version.isdigit():
                raise InputError(
                    f"'version': expected a whole number (got '{version[:20]}')",
                    problems=problem(Reason.STALE_VERSION, "version"),
                )
            services.screenings.sign(a.principal, screening_id, int(version))
            return redirect(f"/screenings/{screening_id}")

        return await kit.form_page(request, page)

    @router.post("/screenings/{screening_id}/actions", response_model=None)
    async def record_action(request: Request, screening_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            cleared_by = form.get("cleared_by", "").strip() or None
            performed = form.get("performed_on", "")
            try:
                performed_on = date.fromisoformat(performed)
                result = ActionResult(form.get("result", ""))
            except ValueError:
                raise InputError(
                    "'performed_on' and 'result': expected a date and one of "
                    f"{', '.join(r.value for r in ActionResult)}",
                    problems=problem(Reason.NOT_A_DATE, "performed_on"),
                ) from None
            report = ActionReport(
                action_id=form.get("action_id", ""),
                result=result,
                performed_on=performed_on,
                cleared_by=cleared_by,
                cleared_at=services.clock.now() if cleared_by else None,
                note=form.get("note", "").strip() or None,
            )
            return kit.created_once(
                a, form, "action",
                lambda key: services.actions.record(a.principal, screening_id, report, key).id,
                lambda _: f"/screenings/{screening_id}#actions",
            )  # fmt: skip

        return await kit.form_page(request, page)
