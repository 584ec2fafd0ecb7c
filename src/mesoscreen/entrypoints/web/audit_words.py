"""Audit event types in words: ``patient.create`` reads "Patient · created" (in Vietnamese too).

An event type is ``subject.verb`` (sometimes with a further part, ``patient.create.replayed``);
each part has words in the catalogues (``audit_subjects``, ``audit_verbs``). A part without
words is shown as its code, so a new event is never hidden, and a test lists every event the
code writes and fails when one lacks words.
"""

from __future__ import annotations

from mesoscreen.entrypoints.web.i18n import Messages, message_or

# The families the audit page offers as a filter, in the order shown.
EVENT_FAMILIES = (
    "patient", "screening", "consent", "plan", "session", "adverse_event", "photo", "outcome",
    "action", "record", "followup", "user", "clinic", "audit", "cds",
)  # fmt: skip


def event_in_words(event_type: str, t: Messages) -> str:
    """``event_type`` as a reader of ``t``'s language says it."""
    subject, _, rest = event_type.partition(".")
    words = [message_or(t, f"audit_subjects.{subject}", subject)]
    words += [message_or(t, f"audit_verbs.{verb}", verb) for verb in rest.split(".") if verb]
    return " · ".join(words)


def event_parts_without_words(event_type: str, t: Messages) -> list[str]:
    """The parts of ``event_type`` the catalogue has no words for (empty when it reads whole)."""
    subject, _, rest = event_type.partition(".")
    missing = [] if f"audit_subjects.{subject}" in t else [subject]
    return missing + [verb for verb in rest.split(".") if verb and f"audit_verbs.{verb}" not in t]
