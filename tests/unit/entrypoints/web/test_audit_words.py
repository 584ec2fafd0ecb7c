"""Every audit event the code writes has words in English and Vietnamese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.audit_words import (
    EVENT_FAMILIES,
    event_in_words,
    event_parts_without_words,
)
from mesoscreen.entrypoints.web.i18n import messages
from mesoscreen.services.adverse_events import AdverseEventRecords
from mesoscreen.services.plans import TreatmentPlanRecords
from mesoscreen.services.treatment_sessions import TreatmentSessionRecords

SOURCE = Path(__file__).parents[4] / "src/mesoscreen"
_LITERAL = re.compile(r'"([a-z_]+(?:\.[a-z_]+){1,2})"')
_NOT_EVENTS = re.compile(r"^(http|mesoscreen|uvicorn)\.|\.(html|js|css|py|yaml|po|json)$")
_SIGNABLE_VERBS = ("create", "amend", "read", "search", "update", "sign", "void")


def written_event_types() -> set[str]:
    """The event types in the code: literals passed as events, and each signable kind's."""
    found = set()
    for module in [*SOURCE.glob("services/*.py"), *SOURCE.glob("entrypoints/**/*.py")]:
        for line in module.read_text("utf-8").splitlines():
            if "entry(" in line or "transaction(" in line or "event_type=" in line:
                found |= {m for m in _LITERAL.findall(line) if not _NOT_EVENTS.search(m)}
    for records in (AdverseEventRecords, TreatmentPlanRecords, TreatmentSessionRecords):
        found |= {f"{records.kind.name}.{verb}" for verb in _SIGNABLE_VERBS}
    return found


def test_the_scan_finds_the_events_it_should() -> None:
    """The scan itself sees well-known events of each kind of writer."""
    events = written_event_types()
    assert {"patient.create", "consent.sign", "user.login", "session.sign"} <= events
    assert len(events) > 40


@pytest.mark.parametrize("language", list(Language))
def test_every_written_event_reads_as_words(language: Language) -> None:
    """No event is shown as its code."""
    t = messages()[language]
    missing = {e: event_parts_without_words(e, t) for e in sorted(written_event_types())}
    assert {e: parts for e, parts in missing.items() if parts} == {}


@pytest.mark.parametrize("language", list(Language))
def test_every_filterable_family_has_words(language: Language) -> None:
    """The audit page's event filter lists families by name."""
    t = messages()[language]
    for family in EVENT_FAMILIES:
        assert f"audit_subjects.{family}" in t
    assert event_in_words("unknown_kind.frobnicate", t) == "unknown_kind · frobnicate"
