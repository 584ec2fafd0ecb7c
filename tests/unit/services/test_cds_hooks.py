"""The CDS Hooks use case without HTTP: every answer waits for its audit entry and token use,
a replayed token is refused and audited, and a record that cannot be had is a 412."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import orjson

from mesoscreen.domain.audit import AuditEntry, AuditOutcome
from mesoscreen.entrypoints.error_table import edges_for
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.cds_hooks import CdsAnswer, CdsHooks, CdsSettings
from mesoscreen.services.cds_tokens import CdsCaller, TokenRejectedError
from mesoscreen.services.intake_reading import IntakeReader
from mesoscreen.services.ports import HttpReply, RecordShown
from mesoscreen.services.screening import ScreeningService
from tests.event_loops import on_a_loop_of_its_own
from tests.fakes import FrozenClock
from tests.integration.cds_hooks.conftest import MESOTHERAPY
from tests.integration.cds_hooks.hook_requests import RECORD, hook_request, prefetch_of

SERVICE = "mesotherapy-order-sign"
CLOCK = FrozenClock()


class OneCaller:
    """Accepts one token, whose jti is given, and refuses every other."""

    def verify(self, authorization: str | None, audience: str) -> CdsCaller:
        if authorization != "Bearer good":
            raise TokenRejectedError("a Bearer token signed by the record system is required")
        return CdsCaller("https://ehr.example.org", jti="jti-1",
                         expires_at=CLOCK.now() + timedelta(minutes=5))  # fmt: skip

    def verify_offline(self, authorization: str | None, audience: str) -> CdsCaller | None:
        return self.verify(authorization, audience)


class OnceGuard:
    """Records each jti once, with the call's audit entry."""

    def __init__(self) -> None:
        self.recorded: list[AuditEntry] = []
        self.used: set[str] = set()

    async def record_call(
        self, issuer: str, jti: str, expires_at: datetime, now: datetime, entry: AuditEntry
    ) -> bool:
        if (issuer, jti) in self.used:
            return False
        self.used.add((issuer, jti))
        self.recorded.append(entry)
        return True

    def close(self) -> None:
        self.used.clear()


class ListAuditLog:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


class UnreachableServer:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def get(self, url: str, headers: Mapping[str, str], timeout_seconds: float) -> HttpReply:
        self.asked.append(url)
        return HttpReply(0, failure="ConnectError")


class NoFacts:
    """A record reader that finds nothing (the screening then asks every question)."""

    answers: Mapping[str, object] = {}
    evidence: Mapping[str, list[str]] = {}
    dates: Mapping[str, str] = {}
    hints: Mapping[str, list[str]] = {}
    deceased: str | None = None

    def read(self, resources: list[dict[str, object]], on: object) -> RecordShown:
        return self


def _service() -> tuple[CdsHooks, OnceGuard, ListAuditLog, UnreachableServer]:
    guard, log, server = OnceGuard(), ListAuditLog(), UnreachableServer()
    kb = default_knowledge_base()
    intakes = IntakeReader(NoFacts(), lambda response: {})
    settings = CdsSettings(frozenset({f"{MESOTHERAPY['system']}|{MESOTHERAPY['code']}"}))
    cds = CdsHooks(settings, ScreeningService(kb), intakes, OneCaller(), guard, log, server,
                   CLOCK)  # fmt: skip
    return cds, guard, log, server


def _call(cds: CdsHooks, body: object, authorization: str = "Bearer good") -> CdsAnswer:
    data = orjson.dumps(body)
    return on_a_loop_of_its_own(
        lambda: cds.call(SERVICE, authorization, "https://aud", data, "https://l")
    )


def _status(answer: CdsAnswer) -> int:
    """The HTTP status the edge gives the answer, through the one error table."""
    return 200 if answer.error is None else edges_for(answer.error).http_status


def test_cards_are_answered_once_the_call_and_its_token_use_are_recorded() -> None:
    """The answer carries the cards the audit entry names, and the token is spent."""
    cds, guard, log, server = _service()
    answer = _call(cds, hook_request(prefetch=prefetch_of(RECORD)))
    assert answer.error is None
    assert answer.body is not None
    [entry] = guard.recorded
    assert entry.detail["cards"] == ",".join(c["uuid"] for c in answer.body["cards"])
    assert entry.detail["outcome"] == "incomplete"
    assert log.entries == []
    assert server.asked == []


def test_a_replayed_token_is_refused_and_the_refusal_audited() -> None:
    """The second call with the same jti gets 401 and a DENIED entry, and no cards."""
    cds, _guard, log, _ = _service()
    _call(cds, hook_request(prefetch=prefetch_of(RECORD)))
    again = _call(cds, hook_request(prefetch=prefetch_of(RECORD)))
    assert (_status(again), again.body) == (401, None)
    assert [e.outcome for e in log.entries] == [AuditOutcome.DENIED]
    assert log.entries[0].detail["refused"] == "replayed token"


def test_a_refused_token_is_audited_with_why_and_nothing_is_read() -> None:
    """No token: 401 naming why, an audit entry for the stranger, no record fetched."""
    cds, guard, log, server = _service()
    answer = _call(cds, hook_request(), authorization="")
    assert answer.error is not None
    assert (_status(answer), answer.error.code) == (401, "unauthorized")
    assert [(e.source, e.outcome) for e in log.entries] == [
        ("unauthenticated", AuditOutcome.DENIED)
    ]
    assert guard.recorded == []
    assert server.asked == []


def test_missing_prefetch_and_an_unreachable_server_is_a_412_spending_the_token() -> None:
    """The server is asked, cannot be reached, and the call gets 412 with its refusal audited."""
    cds, guard, _, server = _service()
    answer = _call(cds, hook_request())
    assert answer.error is not None
    assert (_status(answer), answer.error.code) == (412, "record_unavailable")
    assert "ConnectError" in str(answer.error)
    assert server.asked
    assert [e.outcome for e in guard.recorded] == [AuditOutcome.FAILURE]


def test_a_call_to_an_unknown_service_is_refused_before_the_token_is_read() -> None:
    """404, nothing audited: no service was called."""
    cds, guard, log, _ = _service()
    answer = on_a_loop_of_its_own(
        lambda: cds.call("nope", "Bearer good", "https://aud", b"{}", "https://l")
    )
    assert _status(answer) == 404
    assert guard.recorded == []
    assert log.entries == []
