"""``PrefixRouter``: a FastAPI router that a request for none of its paths passes at once.

Since FastAPI 0.137 an included router is no longer copied into the app: the app asks each
included router in turn whether it matches, and the router answers by trying every one of its
routes (about 2 us each here, a regular expression and FastAPI's bookkeeping of the scope).
A request for the last router's paths, and ``/health`` after them, so paid for every route of
every router before it: 0.2-0.4 ms a request, 8% of a page's CPU. FastAPI does not look at a
router's prefix first (its pull request 16159 would, for prefixes given to ``include_router``).

A route's path can only match a request whose path holds the route's literal beginning (its
path up to the first parameter): Starlette matches the route's whole path from its start
against the request's path, less any ``root_path`` (a suffix of the path), and an including
router only puts a prefix before it. So a ``PrefixRouter`` first looks for the literal
beginnings of its routes in the request's path, in one regular expression, and answers "no
match" when none is there. Anything else is FastAPI's matching unchanged, in the same order;
a router holding a route that does not match on its path alone (an included router, a host, a
route class with its own ``matches``) has no such test and is always asked in full. FastAPI
before 0.137, which copied included routes into the app, never asks a router, so there the
test is never made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Match, Mount, Route, WebSocketRoute
from starlette.types import Scope

# The ways of matching that look at the path alone as Starlette compiles it (a route class that
# matches otherwise, even one derived from these, gives no clue).
_PATH_MATCHING = frozenset(
    kind.matches for kind in (Route, WebSocketRoute, Mount, APIRoute, APIWebSocketRoute)
)


def literal_beginning(path: str) -> str:
    """The part of a route's path before its first parameter (all of it when it has none)."""
    return path.split("{", 1)[0]


def route_clue(route: object) -> str | None:
    """A regular expression found in every request path that ``route`` can match; None when
    it can match a path holding nothing in particular, or does not match on the path alone.

    A route's path, parameters aside, is matched whole ("^...$") against the request's path
    less its ``root_path`` (which leaves a suffix of it): a path with no parameter must end
    the request's path (``$`` as Starlette's own pattern has it, so also before a final
    newline); any other path's literal beginning must be in it somewhere. A mount matches
    its path and what follows, so only its beginning is asked for.
    """
    if not isinstance(route, Route | WebSocketRoute | Mount):
        return None
    if type(route).matches not in _PATH_MATCHING:
        return None
    beginning = literal_beginning(route.path)
    if not beginning:
        return None
    if beginning == route.path and not isinstance(route, Mount):
        return re.escape(beginning) + "$"
    return re.escape(beginning)


def clues_pattern(routes: Iterable[Any]) -> re.Pattern[str] | None:
    """A pattern found in every request path that one of ``routes`` can match (``route_clue``);
    None when some route can match any path, or there are none."""
    clues = set()
    for route in routes:
        clue = route_clue(route)
        if clue is None:
            return None
        clues.add(clue)
    if not clues:
        return None
    return re.compile("|".join(sorted(clues)))


class PrefixRouter(APIRouter):
    """An ``APIRouter`` that answers "no match" at once for a path holding none of its routes'
    clues (``clues_pattern``), and otherwise matches as FastAPI does."""

    # The routes the pattern was made for (held, so that no other route takes one of their
    # ids), their ids, and the pattern, replaced together.
    _clues: tuple[tuple[Any, ...], tuple[int, ...], re.Pattern[str] | None] = ((), (), None)

    def may_match(self, path: str) -> bool:
        """False only when none of this router's routes can match the request path ``path``."""
        routes = self.routes
        _, made_for, pattern = self._clues
        # Routes are added while the app is built; the pattern follows any change, told by
        # the routes' identities (an equal route may match otherwise: its class's own way).
        ids = tuple(map(id, routes))
        if ids != made_for:
            held = tuple(routes)
            pattern = clues_pattern(held)
            self._clues = (held, ids, pattern)
        return pattern is None or pattern.search(path) is not None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FastAPI's answer to an including router, after the test of ``may_match``."""
        if not self.may_match(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)
