"""A patient's timeline: screenings, plans, sessions and adverse events, newest first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.documents import PlanSummary, read_summary
from mesoscreen.domain.records import AdverseEvent, PlanRecord, Screening, TreatmentSession


class EntryKind(StrEnum):
    """What a timeline entry records."""

    SCREENING = "screening"
    PLAN = "plan"
    SESSION = "session"
    ADVERSE_EVENT = "adverse_event"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One record on the timeline, at the moment it is about (not when it was typed in)."""

    at: datetime
    kind: EntryKind
    record: Screening | PlanRecord | TreatmentSession | AdverseEvent
    # A plan's figures, read without trusting its stored document (None when unreadable).
    summary: PlanSummary | None = None


def plan_summary(plan: PlanRecord) -> PlanSummary | None:
    """The figures of a stored plan, or None when its document cannot be read."""
    try:
        return read_summary(plan.document)
    except PlanError:
        return None


def build_timeline(
    screenings: Iterable[Screening],
    plans: Iterable[PlanRecord],
    sessions: Iterable[TreatmentSession],
    events: Iterable[AdverseEvent],
) -> list[TimelineEntry]:
    """Every record of the patient, newest first (ties: the order of the arguments)."""
    entries = [TimelineEntry(s.created_at, EntryKind.SCREENING, s) for s in screenings]
    entries += [TimelineEntry(p.created_at, EntryKind.PLAN, p, plan_summary(p)) for p in plans]
    entries += [TimelineEntry(s.performed_at, EntryKind.SESSION, s) for s in sessions]
    entries += [TimelineEntry(e.onset_at, EntryKind.ADVERSE_EVENT, e) for e in events]
    order = {kind: rank for rank, kind in enumerate(EntryKind)}
    return sorted(entries, key=lambda entry: (-entry.at.timestamp(), order[entry.kind]))
