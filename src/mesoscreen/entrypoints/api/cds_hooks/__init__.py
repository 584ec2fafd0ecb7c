"""CDS Hooks 2.0: the screening warns inside the clinic's record system when mesotherapy is
ordered or booked. ``build_cds_router`` is mounted by ``create_app``."""

from mesoscreen.entrypoints.api.cds_hooks.routes import build_cds_router

__all__ = ["build_cds_router"]
