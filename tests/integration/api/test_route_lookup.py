"""The clinic app's routers pass at once the paths none of their routes can match."""

from __future__ import annotations

from typing import Any

import pytest

from mesoscreen.bootstrap import Services
from mesoscreen.entrypoints.api import create_app
from mesoscreen.entrypoints.prefix_router import PrefixRouter


@pytest.fixture
def app_routers(services: Services) -> list[Any]:
    """The routers the clinic app includes."""
    app = create_app(services.settings, services=services)
    return [route.original_router for route in app.routes if hasattr(route, "original_router")]


def test_every_router_of_the_app_is_a_prefix_router_that_finds_each_of_its_paths(
    app_routers: list[Any],
) -> None:
    """Each router the app includes is a prefix router, asked for every path of its own and
    passing a path of none of them."""
    assert len(app_routers) >= 20
    for router in app_routers:
        assert isinstance(router, PrefixRouter)
        for route in router.routes:
            path = "/".join("7" if part.startswith("{") else part for part in route.path.split("/"))
            assert router.may_match(path), route.path
        assert not router.may_match("/no-route-has/this")


def test_a_page_request_passes_every_api_router_and_the_home_page(
    app_routers: list[Any],
) -> None:
    """The screening page's path is looked for only in routers holding paths that begin with
    "/screenings/"."""
    asked = [router for router in app_routers if router.may_match("/screenings/abc")]
    assert asked
    assert all(
        any(route.path.startswith("/screenings/") for route in router.routes) for router in asked
    )
