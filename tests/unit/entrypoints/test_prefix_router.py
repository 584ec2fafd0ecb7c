"""A router that passes at once the paths none of its routes can match, and otherwise matches
as FastAPI does: never a route lost, the same answer for every request."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request, WebSocket
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.responses import PlainTextResponse
from starlette.routing import Host, Match, Mount, Route, WebSocketRoute
from starlette.testclient import TestClient

from mesoscreen.entrypoints.prefix_router import PrefixRouter, clues_pattern, route_clue

# Path segments: a few literal words (so that requests often meet a route), parameters
# (Starlette's default, typed and whole-path ones).
WORDS = ("a", "ab", "b", "plans", "patients", "x-y")
PARAMETERS = ("{id}", "{n:int}", "{rest:path}")
segment = st.sampled_from(WORDS + PARAMETERS)


@st.composite
def route_paths(draw: st.DrawFn) -> str:
    """A route's path: "/" or one to four segments, sometimes with a trailing slash."""
    parts = draw(st.lists(segment, min_size=0, max_size=4))
    # Each parameter named once in a path, as Starlette requires.
    parts = [part.replace("{", f"{{p{n}_") if part.startswith("{") else part
             for n, part in enumerate(parts)]  # fmt: skip
    path = "/" + "/".join(parts)
    if parts and draw(st.booleans()):
        path += "/"
    return path


# What a request's segment may hold: words, numbers, and the characters that cut or end a path.
request_segment = st.one_of(
    st.sampled_from(WORDS),
    st.text(alphabet="ab01-{}.\n%", min_size=0, max_size=4),
)


@st.composite
def request_paths(draw: st.DrawFn, routes: list[str]) -> str:
    """A request path: one of ``routes`` with its parameters filled in, or any segments; in
    either case sometimes with a trailing slash or newline."""
    if routes and draw(st.booleans()):
        template = draw(st.sampled_from(routes))
        parts = []
        for part in template.split("/"):
            if part.startswith("{"):
                part = draw(st.sampled_from(("7", "abc", "a/b", "")))
            parts.append(part)
        path = "/".join(parts)
    else:
        path = "/" + "/".join(draw(st.lists(request_segment, max_size=4)))
    return path + draw(st.sampled_from(("", "", "/", "\n")))


def _endpoint(name: str) -> Any:
    """An endpoint that answers with its name, its path parameters and the root path."""

    def answer(request: Request) -> PlainTextResponse:
        params = sorted(request.path_params.items())
        return PlainTextResponse(f"{name} {params} {request.scope.get('root_path')}")

    return answer


def _socket(name: str) -> Any:
    """A websocket endpoint that sends its name."""

    async def answer(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(name)
        await websocket.close()

    return answer


def _mounted(name: str) -> Any:
    """An ASGI app to mount: answers with its name, the path and the root path it was given."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await receive()
            await send({"type": "websocket.close", "code": 1000})
            return
        text = f"{name} {scope['path']} {scope['root_path']}"
        await PlainTextResponse(text)(scope, receive, send)

    return app


def _route(kind: str, path: str, number: int) -> Any:
    """A Starlette route of ``kind`` at ``path``."""
    if kind == "mount":
        return Mount(path.rstrip("/") or "/x", app=_mounted(f"mount{number}"))
    if kind == "websocket":
        return WebSocketRoute(path, _socket(f"ws{number}"))
    methods = ["POST"] if kind == "post" else ["GET"]
    return Route(path, _endpoint(f"route{number}"), methods=methods)


kinds = st.sampled_from(("get", "get", "post", "mount", "websocket"))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), templates=st.lists(st.tuples(kinds, route_paths()), min_size=1, max_size=6))
def test_a_path_the_router_passes_matches_none_of_its_routes(
    data: st.DataObject, templates: list[tuple[str, str]]
) -> None:
    """Whenever the router says none of its routes can match, each route's own Starlette
    matching says the same, under any root path and for any method."""
    router = PrefixRouter()
    router.routes.extend(_route(kind, path, n) for n, (kind, path) in enumerate(templates))
    root = data.draw(st.sampled_from(("", "/base", "/a")))
    full_path = root + data.draw(request_paths([path for _, path in templates]))
    if router.may_match(full_path):
        return
    for kind, method in (("http", "GET"), ("http", "POST"), ("websocket", "GET")):
        scope = {"type": kind, "path": full_path, "root_path": root, "method": method}
        for route in router.routes:
            assert route.matches(scope)[0] == Match.NONE, (route.path, full_path)


def test_the_clue_of_a_path_without_parameters_ends_the_request_path() -> None:
    """A route without parameters is looked for at the end of the path (where Starlette's
    pattern puts it, a root path before it); a route with one, and a mount, by their literal
    beginning."""
    router = PrefixRouter()
    router.routes.extend([Route("/", _endpoint("home")), Route("/today", _endpoint("today"))])
    assert router.may_match("/today")
    assert router.may_match("/base/today")
    assert router.may_match("/today/")  # "/" ends it: the home page's route is asked
    assert not router.may_match("/today/plans")
    assert route_clue(Route("/patients/{id}/plans", _endpoint("p"))) == "/patients/"
    assert route_clue(Mount("/static", app=_mounted("s"))) == "/static"
    assert route_clue(Route("/today", _endpoint("t"))) == "/today$"


class CountingRoute(APIRoute):
    """A route that counts the times it is asked whether it matches."""

    asked = 0

    def matches(self, scope: Any) -> tuple[Match, Any]:
        CountingRoute.asked += 1
        return super().matches(scope)


def test_a_router_holding_what_does_not_match_on_its_path_alone_is_always_asked() -> None:
    """An included router, a host, a route class with its own way of matching or a route
    starting with a parameter leaves a router no clue to pass a path by."""
    inner = APIRouter()
    inner.add_api_route("/inner", lambda: None)
    outer = PrefixRouter()
    outer.add_api_route("/plans", lambda: None)
    outer.include_router(inner)
    assert outer.may_match("/inner")
    hosted = PrefixRouter()
    hosted.routes.extend([Route("/plans", _endpoint("p")), Host("example.org", app=inner)])
    assert hosted.may_match("/inner")
    own = PrefixRouter(route_class=CountingRoute)
    own.add_api_route("/plans", lambda: None)
    assert route_clue(own.routes[0]) is None
    assert own.may_match("/PLANS")
    assert route_clue(Route("/{anything}", _endpoint("a"))) == "/"
    assert clues_pattern([]) is None


def test_the_clues_follow_the_routes_added_removed_or_replaced() -> None:
    """A route added after the router was asked is matched, also one that takes the place
    of a removed route (the same number of routes), or of an equal route that matches its own
    way."""
    router = PrefixRouter()
    router.add_api_route("/plans", lambda: None)
    assert not router.may_match("/patients")
    router.add_api_route("/patients", lambda: None)
    assert router.may_match("/patients")
    router.routes.pop(0)
    router.add_api_route("/sessions", lambda: None)
    assert router.may_match("/sessions")
    router.routes[0] = Route("/consents", _endpoint("c"))
    assert router.may_match("/consents")
    assert not router.may_match("/patients")
    plain = router.routes[0]
    router.routes[0] = CountingRoute(plain.path, plain.endpoint, methods=list(plain.methods))
    assert router.routes[0] == plain  # Starlette's equality: same path, endpoint and methods
    assert router.may_match("/CONSENTS")  # its own way of matching: always asked


# A router's own prefix, or the one it is included under.
prefixes = st.sampled_from(("", "/a", "/plans", "/x-y"))
app_kinds = st.sampled_from(("GET", "POST", "GET", "mount", "websocket"))
Group = tuple[str, str, list[tuple[str, str]]]


def _app(router_class: type[APIRouter], groups: list[Group]) -> FastAPI:
    """An app including one router of ``router_class`` for each group: its prefix, the prefix
    it is included under, its routes (a method, a mount or a websocket, and a path)."""
    app = FastAPI()
    for number, (own_prefix, include_prefix, routes) in enumerate(groups):
        router = router_class(prefix=own_prefix)
        for index, (kind, path) in enumerate(routes):
            name = f"r{number}.{index}"
            if kind == "mount":
                router.mount(path.rstrip("/") or "/m", _mounted(name))
            elif kind == "websocket":
                router.add_api_websocket_route(path, _socket(name), name=name)
            else:
                router.add_api_route(
                    path, _endpoint(name), methods=[kind], name=name,
                    response_class=PlainTextResponse,
                )  # fmt: skip
        app.include_router(router, prefix=include_prefix)
    return app


def _answer(client: TestClient, method: str, path: str) -> tuple[Any, ...]:
    """What ``client`` gets for ``method`` at ``path``: a websocket's text or its error, or
    the status, body, redirect and allowed methods."""
    if method == "websocket":
        try:
            with client.websocket_connect(path) as socket:
                return ("websocket", socket.receive_text())
        except Exception as error:
            return ("websocket", type(error).__name__)
    response = client.request(method, path)
    headers = response.headers
    return (response.status_code, response.text, headers.get("location"), headers.get("allow"))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    groups=st.lists(
        st.tuples(prefixes, prefixes, st.lists(st.tuples(app_kinds, route_paths()), min_size=1,
                                               max_size=4)),
        min_size=1, max_size=3,
    ),
    data=st.data(),
)  # fmt: skip
def test_an_app_answers_every_request_as_it_does_with_fastapis_own_routers(
    groups: list[Group], data: st.DataObject
) -> None:
    """Apps built alike from FastAPI's routers and from these (router and include prefixes,
    mounts, websockets) give the same answer to the same requests under any root path: the
    route found and its parameters, a wrong method and the methods allowed, a slash to add or
    drop, nothing found."""
    templates = [include + own + path for own, include, routes in groups for _, path in routes]
    requests = data.draw(st.lists(
        st.tuples(st.sampled_from(("GET", "POST", "HEAD", "websocket")),
                  st.sampled_from(("", "/base", "/a")), request_paths(templates)),
        max_size=8,
    ))  # fmt: skip
    answers = []
    for router_class in (APIRouter, PrefixRouter):
        app = _app(router_class, groups)
        clients: dict[str, TestClient] = {}
        got = []
        for method, root, path in requests:
            if root not in clients:
                clients[root] = TestClient(app, follow_redirects=False, root_path=root)
            # A path starting "//" would be read as a host by the client.
            sent = "/" + (root + path).lstrip("/")
            got.append(_answer(clients[root], method, sent.replace("\n", "%0A")))
        answers.append(got)
    assert answers[0] == answers[1]


def test_a_request_for_another_routers_path_never_asks_this_router(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app passes a router whose clues the path lacks without FastAPI's matching (which
    tries its routes), and asks it for a path of its own."""
    asked = []
    fastapi_matches = APIRouter.matches

    def counted(self: APIRouter, scope: Any) -> Any:
        asked.append(scope["path"])
        return fastapi_matches(self, scope)

    monkeypatch.setattr(APIRouter, "matches", counted)
    app = FastAPI()
    router = PrefixRouter()
    router.add_api_route("/plans/{plan_id}", lambda plan_id: plan_id)
    app.include_router(router)
    app.add_api_route("/health", lambda: "ok")
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert asked == []
        assert client.get("/plans/7").json() == "7"
        assert asked == ["/plans/7"]
