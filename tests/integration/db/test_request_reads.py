"""What every page request reads and audits, on SQLite and PostgreSQL: its reads are audited
entry for entry, chained once when the page's block ends (a transaction that writes still
chains its entries with its writes), and the session check is one query."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Principal, Role
from mesoscreen.domain.errors import NotFoundError
from mesoscreen.domain.records import AuthSession, Patient, StaleVersionError
from mesoscreen.services.patients import PatientDetails
from tests.factories import PASSWORD, principal_for, seed_clinic, unique
from tests.fakes import FrozenClock
from tests.intakes import intake

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _stored_for(services: Services, patient_id: str) -> list[tuple[str, str]]:
    """(event type, outcome) of the stored audit entries about ``patient_id``, in order."""
    log = tables.audit_log
    query = select(log.c.event_type, log.c.outcome).where(log.c.patient_id == patient_id)
    with services.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(log.c.seq))]


def _head(services: Services) -> int:
    with services.engine.connect() as connection:
        return int(connection.execute(select(func.max(tables.audit_log.c.seq))).scalar_one())


def _registered(services: Services) -> tuple[Patient, Principal]:
    staff = seed_clinic(services.accounts)
    clinician = staff.principal(Role.CLINICIAN)
    details = PatientDetails(family_name=unique("Le"), given_name="Mai")
    return services.patients.register(clinician, staff.clinic.id, details), clinician


def test_reads_in_a_batch_are_stored_when_it_ends_each_as_its_own_entry(
    services: Services,
) -> None:
    patient, clinician = _registered(services)
    before = _stored_for(services, patient.id)
    with services.reads_batched():
        services.patients.get(clinician, patient.id)
        services.patient_headers.for_patient(clinician, patient.id)
        assert _stored_for(services, patient.id) == before  # not yet: the page is not answered
    after = _stored_for(services, patient.id)
    assert after[len(before) :] == [("patient.read", "success"), ("patient.header", "success")]
    assert services.audit.verify().intact


def test_a_write_inside_a_batch_is_chained_with_its_transaction(services: Services) -> None:
    patient, clinician = _registered(services)
    with services.reads_batched():
        services.patients.get(clinician, patient.id)
        head = _head(services)
        details = PatientDetails(family_name=patient.family_name, given_name="Mai Anh")
        services.patients.update(clinician, patient.id, patient.version, details)
        # The update's entry is stored with the update, before the block ends.
        assert _head(services) == head + 1
        assert _stored_for(services, patient.id)[-1] == ("patient.update", "success")
    # The read is stored after, at the end of the block.
    assert _stored_for(services, patient.id)[-1] == ("patient.read", "success")


def test_a_refused_read_is_stored_when_the_block_ends_by_the_error(services: Services) -> None:
    patient, clinician = _registered(services)
    missing = unique("nobody")
    before = _head(services)

    def page() -> None:
        with services.reads_batched():
            services.patients.get(clinician, patient.id)
            services.patients.get(clinician, missing)

    with pytest.raises(NotFoundError):
        page()
    log = tables.audit_log
    with services.engine.connect() as connection:
        rows = connection.execute(
            select(log.c.event_type, log.c.outcome, log.c.entity_id)
            .where(log.c.seq > before)
            .order_by(log.c.seq)
        ).all()
    assert [(r.event_type, r.outcome) for r in rows] == [
        ("patient.read", "success"),
        ("patient.read", "failure"),
    ]
    assert rows[1].entity_id == missing


def test_batches_do_not_nest(services: Services) -> None:
    factory = SqlUnitOfWorkFactory(services.engine)
    with factory.reads_batched():
        nested = factory.reads_batched()
        with pytest.raises(RuntimeError, match="already open"):
            nested.__enter__()


def test_the_session_check_reads_the_session_its_user_and_every_clinic_in_one_query(
    services: Services,
) -> None:
    """A user of two clinics: one query gives the session and the user with both clinics;
    an unknown session gives None."""
    first, second = seed_clinic(services.accounts), seed_clinic(services.accounts)
    admin = principal_for(first.users[Role.ADMIN])
    user = services.accounts.create_user(
        admin, unique("both"), PASSWORD, Role.NURSE, [first.clinic.id]
    )
    both = {first.clinic.id, second.clinic.id}
    with SqlUnitOfWorkFactory(services.engine)() as uow:
        uow.users.save(replace(user, clinic_ids=frozenset(both), version=2), user.version)
        session = AuthSession(unique("s")[:64], user.id, "cookie", "h", NOW, NOW)
        uow.auth_sessions.add(session)
        uow.commit()
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(services.engine, "before_cursor_execute", count)
    try:
        with SqlUnitOfWorkFactory(services.engine)() as uow:
            found = uow.auth_sessions.get_with_user(session.id)
            missing = uow.auth_sessions.get_with_user(unique("none"))
    finally:
        event.remove(services.engine, "before_cursor_execute", count)
    assert found is not None
    assert found[0] == session
    assert (found[1].id, found[1].clinic_ids, found[1].role) == (user.id, both, Role.NURSE)
    assert missing is None
    assert len([s for s in statements if "auth_sessions" in s]) == 2  # one per look-up
    assert not [s for s in statements if "FROM memberships" in s and "auth_sessions" not in s]


def test_a_batch_shares_one_connection_and_one_transaction_between_reads(
    services: Services,
) -> None:
    """Three reads and the audit append: one checkout and one commit (on PostgreSQL; on
    SQLite, where a transaction locks the database, one per read and one for the append)."""
    patient, clinician = _registered(services)
    checkouts: list[object] = []
    commits: list[object] = []

    def checkout(*args: object) -> None:
        checkouts.append(args)

    def commit(*args: object) -> None:
        commits.append(args)

    event.listen(services.engine, "checkout", checkout)
    event.listen(services.engine, "commit", commit)
    try:
        with services.reads_batched():
            services.patients.get(clinician, patient.id)
            services.patient_headers.for_patient(clinician, patient.id)
            services.screenings.list_for_patient(clinician, patient.id)
    finally:
        event.remove(services.engine, "checkout", checkout)
        event.remove(services.engine, "commit", commit)
    shared = services.engine.dialect.name != "sqlite"
    assert (len(checkouts), len(commits)) == ((1, 1) if shared else (4, 4))
    assert [e for e, _ in _stored_for(services, patient.id)][-3:] == [
        "patient.read",
        "patient.header",
        "screening.search",
    ]


def test_a_write_left_uncommitted_or_failing_in_a_batch_is_rolled_back(
    services: Services,
) -> None:
    """A unit of work that writes and leaves without commit, or raises after writing, changes
    nothing, though the shared transaction goes on to the end of the block."""
    patient, clinician = _registered(services)
    factory = SqlUnitOfWorkFactory(services.engine)
    renamed = replace(patient, given_name="Changed", version=patient.version + 1)
    with factory.reads_batched():
        services.patients.get(clinician, patient.id)
        with factory() as uow:
            uow.patients.save(renamed, patient.version)  # and no commit
        with pytest.raises(StaleVersionError), factory() as uow:  # noqa: PT012
            uow.patients.save(renamed, patient.version)
            uow.patients.save(renamed, patient.version)  # the version has moved on
        services.patients.get(clinician, patient.id)
    stored = services.patients.get(clinician, patient.id)
    assert (stored.given_name, stored.version) == (patient.given_name, patient.version)
    assert [e for e, _ in _stored_for(services, patient.id)][-3:] == ["patient.read"] * 3


def test_a_record_read_with_whether_it_was_replaced_in_one_query(services: Services) -> None:
    """A corrected screening reads as replaced, its correction as not, another clinic's as
    not found: each in one statement."""
    patient, clinician = _registered(services)
    first = services.screenings.screen_intake(clinician, patient.id, intake("female"))
    second = services.screenings.correct(clinician, first.id, intake("female"))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    factory = SqlUnitOfWorkFactory(services.engine)
    event.listen(services.engine, "before_cursor_execute", count)
    try:
        with factory() as uow:
            old = uow.screenings.get_with_replaced(first.id, clinician.clinic_ids)
            new = uow.screenings.get_with_replaced(second.id, clinician.clinic_ids)
            with pytest.raises(NotFoundError):
                uow.screenings.get_with_replaced(first.id, {"another-clinic"})
    finally:
        event.remove(services.engine, "before_cursor_execute", count)
    assert (old[0].id, old[1], new[0].id, new[1]) == (first.id, True, second.id, False)
    assert old[0] == services.screenings.get(clinician, first.id)[0]
    assert len([s for s in statements if "FROM screenings" in s]) == 3


def test_the_latest_record_is_read_alone_signed_and_uncorrected_as_asked(
    services: Services, clock: FrozenClock
) -> None:
    """Of a signed screening, its signed correction and a later draft: the latest is the
    draft, the latest signed and uncorrected the correction, in another clinic none."""
    patient, clinician = _registered(services)
    screenings = services.screenings
    first = screenings.screen_intake(clinician, patient.id, intake("female"))
    screenings.sign(clinician, first.id, first.version)
    correction = screenings.correct(clinician, first.id, intake("female"))
    correction = screenings.sign(clinician, correction.id, correction.version)
    clock.advance(timedelta(minutes=1))
    draft = screenings.screen_intake(clinician, patient.id, intake("female"))
    where = {"patient_id": patient.id}
    with SqlUnitOfWorkFactory(services.engine)() as uow:
        latest = uow.screenings.latest(clinician.clinic_ids, where)
        signed = uow.screenings.latest(clinician.clinic_ids, where, signed=True, current=True)
        any_signed = uow.screenings.latest(clinician.clinic_ids, where, signed=True)
        elsewhere = uow.screenings.latest({"another-clinic"}, where)
    ids = [r.id if r is not None else None for r in (latest, signed, any_signed)]
    assert ids[:2] == [draft.id, correction.id]
    assert ids[2] in {first.id, correction.id}
    assert elsewhere is None


def test_the_names_shown_for_user_ids_are_one_statement_of_fixed_text(
    services: Services,
) -> None:
    """The names of two users, an unknown id left out; on PostgreSQL the ids are one array,
    so the statement's text is the same for one id or several (never rendered again)."""
    staff = seed_clinic(services.accounts)
    clinician, nurse = staff.principal(Role.CLINICIAN), staff.principal(Role.NURSE)
    sent: list[str] = []

    def seen(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(services.engine, "before_cursor_execute", seen)
    try:
        with SqlUnitOfWorkFactory(services.engine)() as uow:
            both = uow.users.shown_names([clinician.user_id, nurse.user_id, "no-such-user"])
            one = uow.users.shown_names([nurse.user_id])
    finally:
        event.remove(services.engine, "before_cursor_execute", seen)
    assert set(both) == {clinician.user_id, nurse.user_id}
    assert one == {nurse.user_id: both[nurse.user_id]}
    assert all(both.values())
    assert len(set(both.values())) == 2
    reads = [s for s in sent if "FROM users" in s]
    assert len(reads) == 2
    if services.engine.dialect.name == "postgresql":
        assert reads[0] == reads[1]
        assert "= ANY (" in reads[0]
