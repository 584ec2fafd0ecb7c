"""``create_app(settings)``: the clinic records service as a FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mesoscreen.bootstrap import Services, build_services
from mesoscreen.config import Settings
from mesoscreen.entrypoints.api import fhir_rest
from mesoscreen.entrypoints.api.cds_hooks import build_cds_router
from mesoscreen.entrypoints.api.log_privacy import install_log_privacy
from mesoscreen.entrypoints.api.middleware import EdgeMiddleware
from mesoscreen.entrypoints.api.problems import install_problem_handlers
from mesoscreen.entrypoints.api.routes import (
    admin,
    adverse_events,
    audit,
    auth,
    consents,
    outcome_measures,
    patients,
    photos,
    plans,
    screenings,
    treatment_sessions,
    voids,
)
from mesoscreen.entrypoints.heavy_work import HeavyWork
from mesoscreen.entrypoints.photo_http import upload_caps
from mesoscreen.entrypoints.web import STATIC_DIR, build_web_routers
from mesoscreen.services.ports import Clock


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    services: Services | None = None,
    fhir_transport: httpx.BaseTransport | None = None,
) -> FastAPI:
    """The HTTP service on the database ``settings`` names (the schema must be migrated).

    Pass ``services`` to share them (their owner closes them); otherwise the app
    builds its own and disposes the engine when it shuts down; ``fhir_transport`` then
    replaces the network for the CDS service's calls to FHIR servers and JWK Set URLs (tests).
    """
    settings = settings or Settings()
    owned = services is None
    wired = services or build_services(settings, clock, fhir_transport=fhir_transport)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            wired.close()

    app = FastAPI(
        title="Mesoscreen clinic records",
        version="1",
        summary="Patients, screenings, plans, sessions, adverse events and their audit trail.",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry would hand every request's path and query (patient ids)
        # and its exceptions to any provider the process is given, by code or by the
        # environment (an OpenTelemetry agent, FASTAPI_OTEL_AUTO_CONFIGURE), outside the
        # log-privacy filter. Mesoscreen sends no telemetry; off, a request also no longer
        # looks the providers up (2 us).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = wired
    heavy_work = HeavyWork(settings.heavy_work_threads)
    app.state.heavy_work = heavy_work
    install_problem_handlers(app)
    app.add_middleware(
        EdgeMiddleware,
        max_body_bytes=settings.max_body_bytes,
        uploads=upload_caps(settings.max_photo_bytes),
        heavy_work=heavy_work,
    )
    # First: routes are matched in order, and the record system waits on every hook call.
    app.include_router(build_cds_router(wired.cds_hooks, settings.cds_link_base))
    for module in (
        auth,
        admin,
        patients,
        screenings,
        plans,
        treatment_sessions,
        adverse_events,
        voids,
        consents,
        outcome_measures,
        photos,
        audit,
        fhir_rest,
    ):
        app.include_router(module.router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: the process answers (no database work; load tests use it as the bare
        endpoint of the same stack)."""
        return {"status": "ok"}

    for pages in build_web_routers(wired, heavy_work):
        app.include_router(pages)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_log_privacy(app.routes)
    return app
