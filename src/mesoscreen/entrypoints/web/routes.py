"""The clinic's pages as one router: sign-in, patients, screening, treatment and admin.

Server-rendered (Jinja2); every form is a plain POST carrying a CSRF token, so every page
works without scripts, which only hide questions that do not apply (the server ignores their
answers anyway), submit the language choice and note the browser's time zone. Pages reach
records only through the services, which check roles and audit every access.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from mesoscreen.bootstrap import Services
from mesoscreen.entrypoints.heavy_work import HeavyWork
from mesoscreen.entrypoints.web.admin_pages import add_admin_pages
from mesoscreen.entrypoints.web.auth_pages import add_auth_pages
from mesoscreen.entrypoints.web.consent_pages import add_consent_pages
from mesoscreen.entrypoints.web.kit import PageKit
from mesoscreen.entrypoints.web.outcome_pages import add_outcome_pages
from mesoscreen.entrypoints.web.patient_pages import add_patient_pages
from mesoscreen.entrypoints.web.photo_pages import add_photo_pages
from mesoscreen.entrypoints.web.record_pages import add_record_pages
from mesoscreen.entrypoints.web.screening_pages import add_screening_pages
from mesoscreen.entrypoints.web.today_page import add_today_page
from mesoscreen.entrypoints.web.treatment_pages import add_treatment_pages

STATIC_DIR = Path(__file__).parent / "static"


def build_web_router(services: Services, heavy_work: HeavyWork | None = None) -> APIRouter:
    """The pages, on ``services``, their CPU-heavy work under ``heavy_work``'s bound."""
    router = APIRouter(include_in_schema=False)
    kit = PageKit(services, heavy_work or HeavyWork(services.settings.heavy_work_threads))
    add_auth_pages(router, kit)
    add_today_page(router, kit)
    add_patient_pages(router, kit)
    add_screening_pages(router, kit)
    add_treatment_pages(router, kit)
    add_record_pages(router, kit)
    add_outcome_pages(router, kit)
    add_consent_pages(router, kit)
    add_photo_pages(router, kit)
    add_admin_pages(router, kit)
    return router
