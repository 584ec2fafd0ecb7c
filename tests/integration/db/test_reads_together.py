"""Reads of records together (``UnitOfWork.read_together``), on SQLite and PostgreSQL: each
finds what the repository's own read finds, value for value and type for type, and on
PostgreSQL all of them are one statement; values of every column type come back from
PostgreSQL's JSON as a result row reads them."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    cast,
    create_engine,
    event,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from mesoscreen.adapters.db import json_rows
from mesoscreen.adapters.db.engine import create_database_engine
from mesoscreen.adapters.db.json_rows import json_columns, json_readers, loads
from mesoscreen.adapters.db.tables import UTCDateTime
from mesoscreen.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.records import EventOutcome, Photo
from mesoscreen.domain.vocabulary import Language
from mesoscreen.services.adverse_events import EventDetails
from mesoscreen.services.consents import PatientSignature
from mesoscreen.services.outcome_measures import Measurements, OutcomeDetails
from mesoscreen.services.patients import PatientDetails
from mesoscreen.services.ports import RecordRead
from mesoscreen.services.recording import read_each
from mesoscreen.services.treatment_sessions import SessionDetails
from tests.factories import ClinicStaff, plan_request, seed_clinic, unique
from tests.fakes import FrozenClock
from tests.intakes import intake


def _treated_patient(
    services: Services, clock: FrozenClock, staff: ClinicStaff
) -> tuple[str, frozenset[str]]:
    """A patient with a record of every kind: screenings signed, corrected (under a clock set
    back, so the replaced one stays the newest signed) and a draft, a signed plan, a consent
    taken, countersigned and then withdrawn, two sessions (one voided; whole and fractional
    depths), an adverse event, an outcome measure and photos (one corrected, two of one day
    told apart by the time they were stored alone)."""
    clinician = staff.principal(Role.CLINICIAN)
    details = PatientDetails(family_name=unique("Nguyễn"), given_name="Lan")
    patient = services.patients.register(clinician, staff.clinic.id, details)
    screening = services.screenings.screen_intake(clinician, patient.id, intake("male"))
    screening = services.screenings.sign(clinician, screening.id, screening.version)
    plan = services.plans.create(clinician, screening.id, plan_request())
    plan = services.plans.sign(clinician, plan.id, plan.version)
    typed = PatientSignature("typed", f"{details.family_name} Lan", True)
    consent = services.consents.take(clinician, screening.id, Language.VI, typed)
    consent = services.consents.countersign(clinician, consent.id, consent.version)
    for depth, minutes in ((1.0, 0), (1.25, 30)):
        session = services.treatment_sessions.create(clinician, patient.id, SessionDetails(
            performed_at=datetime(2026, 11, 20, 10, minutes, 0, 123400, tzinfo=UTC),
            points=[{"number": 1, "volume_ml": 0.1}],
            products=[{"name": "Dutasteride", "lot_number": "L1", "expiry": "2027-06-30"}],
            depth_mm=depth, plan_id=plan.id))  # fmt: skip
    services.treatment_sessions.void(clinician, session.id, "entered twice")
    services.consents.withdraw(clinician, consent.id, "changed her mind")
    services.adverse_events.report(clinician, patient.id, EventDetails(
        onset_at=datetime(2026, 11, 20, 8, tzinfo=UTC), severity_grade=1,
        outcome=EventOutcome.RECOVERING, complication_id="bruising",
        follow_up_on=date(2026, 11, 24)))  # fmt: skip
    measured = Measurements(hair_count=118, area_cm2=1.0, self_assessment=3)
    services.outcome_measures.record(clinician, patient.id, OutcomeDetails(date(2026, 11, 24),
                                                                           measured))  # fmt: skip
    clock.advance(timedelta(minutes=-5))
    correction = services.screenings.correct(clinician, screening.id, intake("male"))
    services.screenings.sign(clinician, correction.id, correction.version)
    clock.advance(timedelta(minutes=10))
    services.screenings.screen_intake(clinician, patient.id, intake("male", sensitive_skin="yes"))
    _photos(services, staff.clinic.id, patient.id, clinician.user_id)
    return patient.id, clinician.clinic_ids


def _photos(services: Services, clinic_id: str, patient_id: str, user_id: str) -> None:
    """Photos of 20 and 24 Nov: of 24 Nov, one stored later than another but with the smaller
    id (so the time it was stored decides, not the id), and one stored last but corrected by a
    photo of 22 Nov (the latest, but not the latest current one)."""
    stored = datetime(2026, 11, 25, 9, 0, 0, 5, tzinfo=UTC)
    first = Photo(str(uuid.uuid4()), clinic_id, patient_id, None, "vertex", date(2026, 11, 20),
                  user_id, "image/jpeg", 1200, 64, 48, "0" * 64, None, None, user_id,
                  stored)  # fmt: skip
    corrected = str(uuid.uuid4())
    with SqlUnitOfWorkFactory(services.engine)() as uow:
        uow.photos.add(first)
        for photo_id, taken_on, note, replaces, seconds in (
            ("ffffffff" + corrected[8:], date(2026, 11, 24), "earlier", None, 1),
            ("00000000" + corrected[8:], date(2026, 11, 24), "vertex, left", None, 2),
            (corrected, date(2026, 11, 24), "blurred", None, 3),
            (str(uuid.uuid4()), date(2026, 11, 22), "retaken", corrected, 4),
        ):
            at = stored + timedelta(seconds=seconds)
            uow.photos.add(Photo(**{**_as_dict(first), "id": photo_id, "taken_on": taken_on,
                                    "note": note, "replaces_id": replaces,
                                    "created_at": at}))  # fmt: skip
        uow.commit()


def _as_dict(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _reads(patient_id: str) -> list[RecordRead]:
    """Every kind of record read in full, and the latest of some as the header reads them."""
    where = {"patient_id": patient_id}
    every = ["screenings", "action_completions", "plans", "treatment_sessions",
             "adverse_events", "consents", "consent_withdrawals", "photos",
             "outcome_measures", "record_voids"]  # fmt: skip
    return [RecordRead(kind, where) for kind in every] + [
        RecordRead("screenings", where, latest_by=("created_at",)),
        RecordRead("screenings", where, latest_by=("created_at",), signed=True),
        RecordRead("screenings", where, latest_by=("created_at",), signed=True, current=True),
        RecordRead("photos", where, latest_by=("taken_on", "created_at")),
        RecordRead("photos", where, latest_by=("taken_on", "created_at"), current=True),
    ]


def _typed(found: list[tuple[Any, ...]]) -> list[list[list[tuple[str, Any, type]]]]:
    """Each record as (field, value, type) triples: equal records of other types differ."""
    return [[[(f.name, getattr(r, f.name), type(getattr(r, f.name))) for f in fields(r)]
             for r in records] for records in found]  # fmt: skip


def test_reads_together_find_what_each_read_finds_in_one_statement_on_postgresql(
    services: Services, clock: FrozenClock
) -> None:
    """A patient's records of every kind, beside another patient's of the same clinic: read
    together as read one by one, value for value and type for type, none of the other's."""
    staff = seed_clinic(services.accounts)
    neighbour, _ = _treated_patient(services, clock, staff)
    patient_id, clinic_ids = _treated_patient(services, clock, staff)
    reads = _reads(patient_id)
    sent: list[str] = []

    def count(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    with SqlUnitOfWorkFactory(services.engine)() as uow:
        one_by_one = read_each(uow, clinic_ids, reads)
        event.listen(services.engine, "before_cursor_execute", count)
        try:
            together = uow.read_together(clinic_ids, reads)
        finally:
            event.remove(services.engine, "before_cursor_execute", count)
        elsewhere = uow.read_together({"another-clinic"}, reads)
        assert uow.read_together(clinic_ids, []) == []
    assert _typed(together) == _typed(one_by_one)
    counts = [len(found) for found in together]
    assert counts == [3, 0, 1, 2, 1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1]
    assert {r.patient_id for found in together for r in found} == {patient_id}
    assert neighbour != patient_id
    assert elsewhere == [()] * len(reads)
    if services.engine.dialect.name == "postgresql":
        assert len(sent) == 1
    # What the header relies on: the newest screening is the draft; the latest signed one is
    # the replaced one, the latest signed and current one the correction; the latest photo
    # is the corrected one of 24 Nov, the latest current one the other 24 Nov photo stored
    # last.
    newest, signed_any, signed_current, latest_photo, current_photo = together[-5:]
    assert newest[0].signed_at is None
    assert signed_current[0].replaces_id == signed_any[0].id
    assert (latest_photo[0].note, current_photo[0].note) == ("blurred", "vertex, left")


_TYPES: dict[str, Any] = {
    "moment": UTCDateTime(),
    "day": Date(),
    "amount": Float(),
    "count": Integer(),
    "flag": Boolean(),
    "code": String(64),
    "words": Text(),
    "document": JSON().with_variant(JSONB(), "postgresql"),
}
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\x00")),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=5), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
_ROWS = st.fixed_dictionaries({
    "moment": st.none() | st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1),
                                       timezones=st.just(UTC)),
    "day": st.none() | st.dates(date(1, 1, 1), date(9999, 12, 31)),
    "amount": st.none() | st.floats(width=64) | st.integers(-(2**53), 2**53).map(float),
    "count": st.none() | st.integers(-(2**31), 2**31 - 1),
    "flag": st.none() | st.booleans(),
    "code": st.none() | _TEXT.filter(lambda t: len(t) <= 64),
    "words": st.none() | _TEXT,
    "document": _JSON_VALUES,
})  # fmt: skip


@pytest.fixture
def postgresql_engine(database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("reads together are one statement on PostgreSQL only; SQLite reads each")
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def _example(**values: Any) -> dict[str, Any]:
    return {name: values.get(name) for name in _TYPES}


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(row=_ROWS, zone=st.sampled_from(["UTC", "Asia/Ho_Chi_Minh", "America/St_Johns"]))
@example(row=_example(amount=-0.0, document={"n": 2**70, "x": 1e-300}), zone="UTC")
@example(row=_example(amount=math.nan, moment=datetime(1900, 1, 1, tzinfo=UTC)),
         zone="Asia/Ho_Chi_Minh")  # fmt: skip
@example(row=_example(amount=math.inf, day=date(1, 1, 1)), zone="UTC")
@example(row=_example(amount=-math.inf, count=-(2**31)), zone="UTC")
@example(row=_example(amount=2.0, document=[18446744073709551616, 0.1, "2.0"]), zone="UTC")
@example(row=_example(moment=datetime(2026, 11, 25, 9, 0, 0, 100000, tzinfo=UTC)),
         zone="America/St_Johns")  # fmt: skip
def test_every_column_type_reads_back_from_json_as_from_a_row(
    postgresql_engine: Engine, row: dict[str, Any], zone: str
) -> None:
    """Times in any session time zone, dates of every year, whole and other floats, NaN and
    infinities, integers, booleans, text and JSON documents with integers beyond 64 bits."""
    table = Table("json_rows_probe", MetaData(), *(Column(n, t) for n, t in _TYPES.items()),
                  prefixes=["TEMPORARY"])  # fmt: skip
    with postgresql_engine.connect() as connection:
        connection.exec_driver_sql(f"SET TIME ZONE '{zone}'")
        table.create(connection)
        try:
            connection.execute(insert(table), row)
            typed = dict(connection.execute(select(table)).mappings().one())
            alias = select(*json_columns(table)).subquery("probe")
            written = loads(
                connection.execute(
                    select(cast(func.row_to_json(alias.table_valued()), Text))
                ).scalar_one()
            )
        finally:
            table.drop(connection)
            connection.rollback()
    readers = json_readers(table)
    read = {name: readers[name](written[name]) for name in _TYPES}
    for name in _TYPES:
        got, wanted = read[name], typed[name]
        if isinstance(wanted, float) and math.isnan(wanted):
            assert isinstance(got, float), name
            assert math.isnan(got), name
        else:  # the same value, type and form (-0.0, the time zone, the microseconds)
            assert (got, type(got), repr(got)) == (wanted, type(wanted), repr(wanted)), name


@pytest.fixture
def project_engine(database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's JSON columns are decoded by SQLAlchemy, not by the driver")
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


_DOCUMENT_TEXTS = st.recursive(
    _JSON_VALUES, lambda inner: st.lists(inner, max_size=3), max_leaves=12
).map(json.dumps)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(text=_DOCUMENT_TEXTS, kind=st.sampled_from(["jsonb", "json"]))
@example(text='{"n": 1180591620717411303424, "x": 1e-300, "y": -0.0}', kind="jsonb")
@example(text="[1e400, -1e400, 12345678901234567890]", kind="json")
@example(text='{"a": 1, "a": 2, "s": "\\ud800"}', kind="json")
def test_the_engine_reads_json_columns_as_the_standard_library(
    project_engine: Engine, postgresql_engine: Engine, text: str, kind: str
) -> None:
    """The project's engine decodes a JSON or JSONB value (orjson where it reads alike) to
    the same values, types and forms as the driver's standard-library decoder."""
    query = select(cast(literal(text), JSONB if kind == "jsonb" else JSON()))
    with project_engine.connect() as connection:
        got = connection.execute(query).scalar_one()
    with postgresql_engine.connect() as connection:
        wanted = connection.execute(query).scalar_one()
    assert repr(got) == repr(wanted)
    assert project_engine.dialect._json_deserializer is json_rows.loads  # type: ignore[attr-defined]


def test_a_column_type_without_a_reader_is_refused() -> None:
    """A new column type cannot be read from JSON by accident."""
    table = Table("with_bytes", MetaData(), Column("id", String(36)), Column("blob", LargeBinary))
    with pytest.raises(TypeError, match=r"with_bytes\.blob"):
        json_readers(table)
