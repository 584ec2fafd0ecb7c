"""Voiding a record entered in error and resolving an adverse event over the API, through the
same use cases as the pages: audited, never deleted, refused with the field named."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from mesoscreen.adapters.db import tables
from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import TwoClinics
from tests.integration.api.conftest import bearer
from tests.integration.api.records import ETAG_1, full_record, ok


def test_a_voided_session_is_kept_as_it_was_and_marked_once(
    client: TestClient, clinics: TwoClinics, services: Services
) -> None:
    """201 with the void; the session reads the same; a second void is 409; an empty reason
    is 422 naming it; another clinic's session is 404; reception may not void (403)."""
    clinician = bearer(client, clinics.a.users[Role.CLINICIAN])
    record = full_record(client, clinician, clinics.a.clinic.id)
    before = ok(client.get(f"/api/v1/treatment-sessions/{record.session}", headers=clinician))
    url = f"/api/v1/treatment-sessions/{record.session}/void"
    empty = client.post(url, json={"reason": "   "}, headers=clinician)
    assert empty.status_code == 422
    assert empty.json()["problems"][0]["field"] == "reason"
    reception = bearer(client, clinics.a.users[Role.RECEPTION])
    assert client.post(url, json={"reason": "twice"}, headers=reception).status_code == 403
    other = bearer(client, clinics.b.users[Role.CLINICIAN])
    assert client.post(url, json={"reason": "twice"}, headers=other).status_code == 404
    void = ok(client.post(url, json={"reason": "entered  twice"}, headers=clinician), 201)
    assert (void["record_type"], void["record_id"], void["reason"]) == (
        "session",
        record.session,
        "entered twice",
    )
    assert void["voided_by"] == clinics.a.users[Role.CLINICIAN].id
    after = ok(client.get(f"/api/v1/treatment-sessions/{record.session}", headers=clinician))
    assert after == before
    again = client.post(url, json={"reason": "again"}, headers=clinician)
    assert again.status_code == 409
    log = tables.audit_log
    query = select(log.c.outcome).where(
        log.c.event_type == "session.void", log.c.entity_id == record.session
    )
    with services.engine.connect() as connection:
        outcomes = sorted(connection.execute(query).scalars())
    # The void, and each refusal: the empty reason, the other clinic, the second void.
    assert outcomes.count("success") == 1
    assert len(outcomes) >= 4


def test_a_resolved_adverse_event_says_how_and_when_it_ended(
    client: TestClient, clinics: TwoClinics
) -> None:
    """A draft is resolved in place (If-Match); a day in the future and a second resolution
    are refused; the event's resolved_on is shown."""
    clinician = bearer(client, clinics.a.users[Role.CLINICIAN])
    record = full_record(client, clinician, clinics.a.clinic.id)
    url = f"/api/v1/adverse-events/{record.event}/resolution"
    future = {"outcome": "resolved", "resolved_on": "2030-01-01"}
    refused = client.post(url, json=future, headers=clinician | ETAG_1)
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["field"] == "resolved_on"
    assert client.post(url, json=future, headers=clinician).status_code == 428
    body = {"outcome": "resolved", "resolved_on": "2026-11-25"}
    resolved = ok(client.post(url, json=body, headers=clinician | ETAG_1))
    assert (resolved["id"], resolved["outcome"], resolved["resolved_on"]) == (
        record.event,
        "resolved",
        "2026-11-25",
    )
    stale = client.post(url, json=body, headers=clinician | {"If-Match": 'W/"2"'})
    assert stale.status_code == 409
    shown = ok(client.get(f"/api/v1/adverse-events/{record.event}", headers=clinician))
    assert shown["resolved_on"] == "2026-11-25"
