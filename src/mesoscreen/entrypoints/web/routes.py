"""The clinic's pages, a router for each part: sign-in, patients, screening, treatment, admin.

Server-rendered (Jinja2); every form is a plain POST carrying a CSRF token, so every page
works without scripts, which only hide questions that do not apply (the server ignores their
answers anyway), submit the language choice and note the browser's time zone. Pages reach
records only through the services, which check roles and audit every access.
"""

from __future__ import annotations

from pathlib import Path

from mesoscreen.bootstrap import Services
from mesoscreen.entrypoints.heavy_work import HeavyWork
from mesoscreen.entrypoints.prefix_router import PrefixRouter
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


def build_web_routers(
    services: Services, heavy_work: HeavyWork | None = None
) -> list[PrefixRouter]:
    """The pages, on ``services``, their CPU-heavy work under ``heavy_work``'s bound: one
    router for each part of the clinic's pages, in the order they are matched (a request
    passes at once the parts that hold none of its path, ``PrefixRouter``)."""
    kit = PageKit(services, heavy_work or HeavyWork(services.settings.heavy_work_threads))
    routers = []
    for add_pages in (
        add_auth_pages,
        add_today_page,
        add_patient_pages,
        add_screening_pages,
        add_treatment_pages,
        add_record_pages,
        add_outcome_pages,
        add_consent_pages,
        add_photo_pages,
        add_admin_pages,
    ):
        router = PrefixRouter(include_in_schema=False)
        add_pages(router, kit)
        routers.append(router)
    return routers
