"""What CDS calls share: a decision made on the same facts and its card texts, and the reading
of the same complete prefetch. Shared results are the ones working them out again gives."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from hypothesis import given, settings

from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.cds_cards import card_texts
from mesoscreen.services.cds_hooks import CdsAnswer, CdsHooks, CdsSettings
from mesoscreen.services.cds_memo import RecordMemo, ScreeningMemo
from mesoscreen.services.cds_tokens import CdsCaller
from mesoscreen.services.intake_reading import IntakeReader
from mesoscreen.services.ports import RecordShown
from mesoscreen.services.screening import ScreeningService
from tests.event_loops import on_a_loop_of_its_own
from tests.intakes import CountedChecks, intake
from tests.integration.cds_hooks.conftest import MESOTHERAPY
from tests.integration.cds_hooks.hook_requests import RECORD, hook_request, prefetch_of
from tests.strategies import SCREENING_DAY, answers_for
from tests.unit.services.test_cds_hooks import (
    CLOCK,
    SERVICE,
    ListAuditLog,
    NoFacts,
    OnceGuard,
    UnreachableServer,
)

KB = default_knowledge_base()
SCREENING = ScreeningService(KB)
SHARED = ScreeningMemo(SCREENING)


@settings(max_examples=300, deadline=None)
@given(answers_for(KB))
def test_a_shared_decision_is_the_one_screening_the_answers_again_gives(
    answers: dict[str, Any],
) -> None:
    """Through one memo across every example: the decision equals the screening service's,
    and the card texts are the decision's own."""
    screened = SHARED.screen(answers, SCREENING_DAY)
    decision = SCREENING.screen(answers, SCREENING_DAY)
    assert screened.decision == decision
    assert screened.texts == card_texts(decision, KB)


def test_the_same_answers_share_a_decision_and_other_answers_do_not() -> None:
    memo = ScreeningMemo(SCREENING)
    clear = memo.screen(intake("female"), SCREENING_DAY)
    assert memo.screen(intake("female"), SCREENING_DAY) is clear
    pregnant = memo.screen(intake("female", pregnant="yes"), SCREENING_DAY)
    assert pregnant.decision.outcome != clear.decision.outcome
    assert pregnant.decision == SCREENING.screen(intake("female", pregnant="yes"), SCREENING_DAY)


def test_another_day_screens_again_and_a_full_memo_starts_again() -> None:
    """Decisions depend on the date; at most ``size`` are kept, and each is still right."""
    memo = ScreeningMemo(SCREENING, size=1)
    today = memo.screen(intake("female"), SCREENING_DAY)
    tomorrow = SCREENING_DAY + timedelta(days=1)
    assert memo.screen(intake("female"), tomorrow) is not today
    for answers in (intake("female", pregnant="yes"), intake("female")) * 2:
        screened = memo.screen(answers, tomorrow)
        assert screened.decision == SCREENING.screen(answers, tomorrow)


def test_a_prefetch_is_known_by_its_content_patient_and_date() -> None:
    memo = RecordMemo()
    key = RecordMemo.key(prefetch_of(RECORD), "1288992")
    assert RecordMemo.key(prefetch_of(RECORD), "1288992") == key
    assert RecordMemo.key(prefetch_of(RECORD[:1]), "1288992") != key
    assert RecordMemo.key(prefetch_of(RECORD), "2") != key
    read = IntakeReader(NoFacts(), lambda response: {}).read_record([], SCREENING_DAY, "1288992")
    memo.keep(key, SCREENING_DAY, read)
    assert memo.get(key, SCREENING_DAY) is read
    assert memo.get(key, SCREENING_DAY + timedelta(days=1)) is None


class CountingReader(NoFacts):
    """Finds nothing, and counts the records it was given to read."""

    def __init__(self) -> None:
        self.read_count = 0

    def read(self, resources: list[dict[str, object]], on: object) -> RecordShown:
        self.read_count += 1
        return self


class FreshTokens:
    """Accepts every call, each with a token of its own."""

    def __init__(self) -> None:
        self.count = 0

    def verify(self, authorization: str | None, audience: str) -> CdsCaller:
        self.count += 1
        return CdsCaller("https://ehr.example.org", jti=f"jti-{self.count}",
                         expires_at=CLOCK.now() + timedelta(minutes=5))  # fmt: skip


def _service() -> tuple[CdsHooks, CountingReader, UnreachableServer]:
    reader, server = CountingReader(), UnreachableServer()
    intakes = IntakeReader(reader, lambda response: {})
    settings = CdsSettings(frozenset({f"{MESOTHERAPY['system']}|{MESOTHERAPY['code']}"}))
    cds = CdsHooks(settings, SCREENING, intakes, FreshTokens(), OnceGuard(), ListAuditLog(),
                   server, CLOCK)  # fmt: skip
    return cds, reader, server


def _call(cds: CdsHooks, body: Mapping[str, Any]) -> CdsAnswer:
    data = orjson.dumps(body)
    return on_a_loop_of_its_own(lambda: cds.call(SERVICE, "Bearer t", "https://aud", data, "l"))


def test_the_same_complete_prefetch_is_read_once_and_each_call_has_cards_of_its_own() -> None:
    cds, reader, _ = _service()
    first = _call(cds, hook_request(prefetch=prefetch_of(RECORD)))
    again = _call(cds, hook_request(prefetch=prefetch_of(RECORD)))
    assert reader.read_count == 1
    assert first.body is not None
    assert again.body is not None
    [card], [same] = first.body["cards"], again.body["cards"]
    assert card["uuid"] != same["uuid"]
    assert {**card, "uuid": ""} == {**same, "uuid": ""}
    _call(cds, hook_request(prefetch=prefetch_of(RECORD[:1])))
    assert reader.read_count == 2


def test_a_record_fetched_from_the_fhir_server_is_fetched_and_read_every_time() -> None:
    """A prefetch that lacks a query is not kept: the server is asked on each call."""
    cds, _, server = _service()
    partial = prefetch_of(RECORD)
    partial.pop(next(iter(partial)))
    for _ in range(2):
        answer = _call(cds, hook_request(prefetch=partial))
        assert answer.error is not None
    assert len(server.asked) == 2


def test_answers_with_a_list_of_allergens_are_checked_once() -> None:
    service = ScreeningService(KB)
    counted = service.schema = CountedChecks(service.schema)  # type: ignore[assignment]
    memo = ScreeningMemo(service)
    answers = intake("male", allergy_history="yes", allergens=["lidocaine", "EGF"])
    allergic = memo.screen(answers, SCREENING_DAY)
    again = intake("male", allergy_history="yes", allergens=["lidocaine", "EGF"])
    assert memo.screen(again, SCREENING_DAY) is allergic
    assert counted.checked == 1
    assert allergic.decision == SCREENING.screen(answers, SCREENING_DAY)
    # Another list, or the same in another order, is checked for itself.
    memo.screen(intake("male", allergy_history="yes", allergens=["EGF", "lidocaine"]),
                SCREENING_DAY)  # fmt: skip
    memo.screen(intake("male", allergy_history="yes", allergens=["lidocaine"]), SCREENING_DAY)
    assert counted.checked == 3
