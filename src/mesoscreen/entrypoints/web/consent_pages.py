"""Consent pages: the document to read and sign (drawn or typed), the clinician's
countersignature, the printable signed consent, and withdrawal.

The document shown is made by the service from the template in force; what is frozen is made
again by the service at signing, never taken from the form, and signing is refused if the
template changed while the patient was reading.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mesoscreen.domain.consent import SignatureMethod
from mesoscreen.domain.errors import ConflictError, DuplicateRequestError, InputError
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.i18n import language_named
from mesoscreen.entrypoints.web.kit import Form, PageKit, redirect
from mesoscreen.services.authentication import Authenticated
from mesoscreen.services.consents import PatientSignature
from mesoscreen.services.recording import FormKey


def _version(form: Form) -> int:
    value = form.get("version", "")
    if not value.isdigit():
        raise InputError(
            f"'version': expected a record version (got '{value[:10]}')",
            problems=problem(Reason.STALE_VERSION, "version"),
        )
    return int(value)


def add_consent_pages(router: APIRouter, kit: PageKit) -> None:
    """Register the consent pages on ``router``."""
    services = kit.services

    def signing_page(
        request: Request,
        a: Authenticated,
        screening_id: str,
        language: Language,
        form: Form | None = None,
        status: int = 200,
        error: str = "",
    ) -> Response:
        screening, _ = services.screenings.get(a.principal, screening_id)
        patient = services.patients.get(a.principal, screening.patient_id)
        document = services.consents.document(a.principal, screening_id, language)
        return kit.render(request, "consent_sign.html", a, status, screening=screening,
                          patient=patient, document=document, doc_lang=language.value,
                          languages=[x.value for x in Language], form=form or {},
                          error=error, patient_header=False)  # fmt: skip

    @router.get("/screenings/{screening_id}/consent", response_model=None)
    def consent_form(request: Request, screening_id: str, doc: str | None = None) -> Response:
        def page(a: Authenticated) -> Response:
            language = language_named(doc) or kit.language(request, a)
            return signing_page(request, a, screening_id, language)

        return kit.page(request, page)

    @router.post("/screenings/{screening_id}/consent", response_model=None)
    async def sign_consent(request: Request, screening_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            language = language_named(form.get("doc_lang")) or kit.language(request, a)
            method = form.get("signature_method", "")
            value = form.get(
                "signature_png" if method == SignatureMethod.DRAWN else "typed_name", ""
            )
            signature = PatientSignature(method, value.strip(), form.get("confirmed") == "yes")

            def create(key: FormKey | None) -> str | Response:
                try:
                    return services.consents.take(a.principal, screening_id, language, signature,
                                                  form.get("template_version") or None,
                                                  key).id  # fmt: skip
                except DuplicateRequestError:
                    raise
                except (InputError, ConflictError) as refused:
                    kept = {k: v for k, v in form.items() if k not in ("signature_png", "form_key")}
                    return signing_page(request, a, screening_id, language, kept, 400,
                                        kit.say(request, a, refused))  # fmt: skip

            return kit.created_once(a, form, "consent", create, lambda made: f"/consents/{made}")

        return await kit.form_page(request, page)

    @router.get("/consents/{consent_id}", response_model=None)
    def consent_page(request: Request, consent_id: str) -> Response:
        def page(a: Authenticated) -> Response:
            state = services.consents.get(a.principal, consent_id)
            patient = services.patients.get(a.principal, state.consent.patient_id)
            return kit.render(request, "consent.html", a, state=state, consent=state.consent,
                              patient=patient)  # fmt: skip

        return kit.page(request, page)

    @router.post("/consents/{consent_id}/countersign", response_model=None)
    async def countersign(request: Request, consent_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            services.consents.countersign(a.principal, consent_id, _version(form))
            return redirect(f"/consents/{consent_id}")

        return await kit.form_page(request, page)

    @router.post("/consents/{consent_id}/withdraw", response_model=None)
    async def withdraw(request: Request, consent_id: str) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            services.consents.withdraw(a.principal, consent_id, form.get("reason", "")[:2000])
            return redirect(f"/consents/{consent_id}")

        return await kit.form_page(request, page)
