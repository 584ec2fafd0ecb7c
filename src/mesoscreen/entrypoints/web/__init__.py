"""The web pages for clinic staff, served by ``mesoscreen serve`` beside the API."""

from mesoscreen.entrypoints.web.routes import STATIC_DIR, build_web_routers

__all__ = ["STATIC_DIR", "build_web_routers"]
