"""The HTTP API of the clinic records service."""

from mesoscreen.entrypoints.api.app import create_app

__all__ = ["create_app"]
