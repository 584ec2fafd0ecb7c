"""An audit entry's fields are written out from one place, ``AuditEntry.plain_fields()``."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.services.audit_chain import canonical_form, link_hash

ENTRY = AuditEntry(
    event_type="patient.read", action=AuditAction.READ, outcome=AuditOutcome.SUCCESS,
    recorded_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC), actor_id="u1",
    actor_role="clinician", clinic_id="c1", patient_id="p1", entity_type="patient",
    entity_id="p1", source="127.0.0.1", detail={"b": "2", "a": "1"},
    other_clinic_ids=frozenset({"c2"}),
)  # fmt: skip


def test_plain_fields_name_every_field_but_the_ones_each_writer_formats() -> None:
    """A field added to AuditEntry reaches the hash, the table, the API and the export, or this
    test names it."""
    declared = [f.name for f in fields(AuditEntry)]
    formatted_by_writers = {"recorded_at", "other_clinic_ids"}
    assert list(ENTRY.plain_fields()) == [n for n in declared if n not in formatted_by_writers]


def test_plain_fields_are_plain_values() -> None:
    """Enums become their stored values and the detail a plain dict."""
    plain = ENTRY.plain_fields()
    assert (plain["action"], plain["outcome"]) == ("R", "success")
    assert plain["detail"] == {"a": "1", "b": "2"}
    assert type(plain["detail"]) is dict


def test_the_chains_canonical_form_and_hash_are_unchanged() -> None:
    """The hash of a known entry is the one stored logs were chained with before the fields
    were gathered in one place: existing audit logs still verify."""
    assert canonical_form(7, ENTRY) == (
        b'{"action":"R","actor_id":"u1","actor_role":"clinician","clinic_id":"c1",'
        b'"detail":{"a":"1","b":"2"},"entity_id":"p1","entity_type":"patient",'
        b'"event_type":"patient.read","other_clinic_ids":["c2"],"outcome":"success",'
        b'"patient_id":"p1","recorded_at":"2026-11-25T09:30:00.000000Z","seq":7,'
        b'"source":"127.0.0.1"}'
    )
    assert link_hash("0" * 64, 7, ENTRY) == (
        "77a0536de120d381746771970cd0ec58603469e7a14c9b9662e069b1866f20da"
    )
