"""The photo use cases on fakes: who may upload and see, what is checked, audit, corrections."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

import pytest

from mesoscreen.domain.access import Role
from mesoscreen.domain.audit import AuditOutcome
from mesoscreen.domain.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
    UnsupportedMediaError,
)
from mesoscreen.domain.records import Photo, PhotoView, RecordStatus, TreatmentSession
from mesoscreen.services.accounts import Accounts
from mesoscreen.services.patients import PatientDetails, PatientRecords
from mesoscreen.services.photos import PhotoDetails, PhotoRecords
from mesoscreen.services.ports import CleanImage
from tests.factories import ClinicStaff, seed_clinic
from tests.fakes import FakeHasher, FakeUnitOfWorkFactory, FrozenClock

TODAY = date(2026, 11, 25)


class FakeSanitiser:
    """Accepts bytes starting with 'JPEG' or 'PNG' and 'cleans' them by dropping '+meta'."""

    max_bytes = 100

    def __init__(self) -> None:
        self.seen: list[bytes] = []

    def sanitise(self, data: bytes) -> CleanImage:
        """A clean image, or the refusals of the real sanitiser."""
        self.seen.append(data)
        if len(data) > self.max_bytes:
            raise TooLargeError(f"'photo': must be at most {self.max_bytes} bytes")
        for magic, kind in ((b"JPEG", "image/jpeg"), (b"PNG", "image/png")):
            if data.startswith(magic):
                return CleanImage(data.replace(b"+meta", b""), kind, 40, 30)
        raise UnsupportedMediaError("'photo': expected a JPEG or PNG image")


@pytest.fixture
def photos(uow: FakeUnitOfWorkFactory, clock: FrozenClock) -> PhotoRecords:
    """The photo use cases with the fake sanitiser."""
    return PhotoRecords(uow, clock, FakeSanitiser())


def _patient(uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff) -> str:
    details = PatientDetails("Tran", "Mai", date(1988, 3, 2), "female", None)
    patients = PatientRecords(uow, clock)
    return patients.register(staff.principal(Role.RECEPTION), staff.clinic.id, details).id


def _session(uow: FakeUnitOfWorkFactory, staff: ClinicStaff, patient_id: str) -> str:
    at = datetime(2026, 11, 20, 9, 0)
    session = TreatmentSession(
        id=f"session-{patient_id}", clinic_id=staff.clinic.id, patient_id=patient_id,
        plan_id=None, performed_at=at, operator_id=staff.users[Role.NURSE].id, points=[],
        products=[], depth_mm=1.0, total_volume_ml=0.0, notes=None,
        status=RecordStatus.DRAFT.value, replaces_id=None,
        created_by=staff.users[Role.NURSE].id, created_at=at, updated_at=at,
    )  # fmt: skip
    with uow() as unit:
        unit.treatment_sessions.add(session)
        unit.commit()
    return session.id


def _vertex(day: date = TODAY, **extra: str) -> PhotoDetails:
    return PhotoDetails(PhotoView.VERTEX.value, day, **extra)  # type: ignore[arg-type]


def _events(uow: FakeUnitOfWorkFactory, prefix: str = "photo.") -> list[tuple[str, str]]:
    return [
        (s.entry.event_type, s.entry.outcome.value)
        for s in uow.store.audit
        if s.entry.event_type.startswith(prefix)
    ]


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.NURSE])
def test_clinicians_and_nurses_upload_a_photo_with_its_metadata(
    uow: FakeUnitOfWorkFactory,
    clock: FrozenClock,
    staff: ClinicStaff,
    photos: PhotoRecords,
    role: Role,
) -> None:
    """The clean bytes are stored apart; size, hash, type, taker and date are recorded."""
    patient = _patient(uow, clock, staff)
    session = _session(uow, staff, patient)
    photo = photos.upload(
        staff.principal(role), patient, _vertex(session_id=session), b"JPEG+meta pixels"
    )
    assert photo.content_type == "image/jpeg"
    assert photo.byte_size == len(b"JPEG pixels")
    assert photo.sha256 == hashlib.sha256(b"JPEG pixels").hexdigest()
    assert (photo.width, photo.height) == (40, 30)
    assert photo.taken_by == photo.created_by == staff.users[role].id
    assert photo.session_id == session
    assert photo.clinic_id == staff.clinic.id
    seen, data = photos.content(staff.principal(Role.CLINICIAN), photo.id)
    assert (seen, data) == (photo, b"JPEG pixels")
    assert ("photo.create", "success") in _events(uow)


def test_reception_may_neither_upload_nor_see_photos_and_each_refusal_is_audited(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> None:
    """Upload, list, details, picture and comparison are all refused to reception."""
    patient = _patient(uow, clock, staff)
    photo = photos.upload(staff.principal(Role.NURSE), patient, _vertex(), b"JPEG")
    reception = staff.principal(Role.RECEPTION)
    attempts = [
        lambda: photos.upload(reception, patient, _vertex(), b"JPEG"),
        lambda: photos.list_for_patient(reception, patient),
        lambda: photos.history(reception, patient),
        lambda: photos.get(reception, photo.id),
        lambda: photos.content(reception, photo.id),
        lambda: photos.compare(reception, photo.id, photo.id),
        lambda: photos.compare_dates(reception, patient, "vertex", TODAY, TODAY),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDeniedError):
            attempt()
    denied = [e for e in _events(uow) if e[1] == AuditOutcome.DENIED.value]
    assert len(denied) == len(attempts)


def test_every_view_of_a_picture_is_audited_with_its_own_entry(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> None:
    """Three views of the bytes: three 'photo.view' entries naming the photo and patient."""
    patient = _patient(uow, clock, staff)
    photo = photos.upload(staff.principal(Role.NURSE), patient, _vertex(), b"PNG")
    for _ in range(3):
        photos.content(staff.principal(Role.CLINICIAN), photo.id)
    views = [s.entry for s in uow.store.audit if s.entry.event_type == "photo.view"]
    assert len(views) == 3
    assert {(e.entity_type, e.entity_id, e.patient_id) for e in views} == {
        ("Media", photo.id, patient)
    }
    assert {e.actor_id for e in views} == {staff.users[Role.CLINICIAN].id}


def test_refused_bytes_store_nothing_and_the_refusal_is_audited(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> None:
    """A GIF is refused as unsupported, an oversized photo as too large; nothing is kept."""
    patient = _patient(uow, clock, staff)
    nurse = staff.principal(Role.NURSE)
    with pytest.raises(UnsupportedMediaError):
        photos.upload(nurse, patient, _vertex(), b"GIF89a")
    with pytest.raises(TooLargeError):
        photos.upload(nurse, patient, _vertex(), b"JPEG" + b"x" * 200)
    assert uow.store.table("photos") == {}
    assert uow.store.table("photo_contents") == {}
    assert _events(uow) == [("photo.create", "failure"), ("photo.create", "failure")]


def test_a_declared_type_that_disagrees_with_the_content_is_refused(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> None:
    """Declared image/png over JPEG content: refused; an undeclared or generic type is fine."""
    patient = _patient(uow, clock, staff)
    nurse = staff.principal(Role.NURSE)
    with pytest.raises(UnsupportedMediaError, match="declared as image/png"):
        photos.upload(nurse, patient, _vertex(), b"JPEG", "image/png")
    photos.upload(nurse, patient, _vertex(), b"JPEG", "application/octet-stream")
    photos.upload(nurse, patient, _vertex(), b"JPEG", "image/jpeg")


@pytest.mark.parametrize(
    ("details", "field"),
    [
        (PhotoDetails("crown", TODAY), "'view'"),
        (PhotoDetails("vertex", TODAY + timedelta(days=2)), "'taken_on'"),
        (PhotoDetails("vertex", date(1980, 1, 1)), "'taken_on'"),
        (PhotoDetails("vertex", TODAY, note="x" * 2001), "'note'"),
    ],
    ids=["unknown-view", "future", "before-birth", "long-note"],
)
def test_bad_details_are_refused_naming_the_field(
    uow: FakeUnitOfWorkFactory,
    clock: FrozenClock,
    staff: ClinicStaff,
    photos: PhotoRecords,
    details: PhotoDetails,
    field: str,
) -> None:
    """Each bad detail is an InputError whose message names the field."""
    patient = _patient(uow, clock, staff)
    with pytest.raises(InputError) as refused:
        photos.upload(staff.principal(Role.NURSE), patient, details, b"JPEG")
    assert field in str(refused.value)


def test_tomorrow_is_accepted_because_the_clinic_may_be_ahead_of_utc(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> None:
    """At 09:00 UTC it is already 16:00 in Vietnam; a date one day ahead of UTC passes."""
    patient = _patient(uow, clock, staff)
    photos.upload(staff.principal(Role.NURSE), patient, _vertex(TODAY + timedelta(days=1)), b"PNG")


def test_a_session_of_another_patient_or_a_stranger_as_photographer_is_refused(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> None:
    """The session must be the patient's; the photographer a user of the patient's clinic."""
    patient = _patient(uow, clock, staff)
    other = _patient(uow, clock, staff)
    nurse = staff.principal(Role.NURSE)
    with pytest.raises(InputError, match="'session_id'"):
        photos.upload(nurse, patient, _vertex(session_id=_session(uow, staff, other)), b"PNG")
    stranger = seed_clinic(Accounts(uow, clock, FakeHasher())).users[Role.NURSE].id
    with pytest.raises(NotFoundError, match="'taken_by'"):
        photos.upload(nurse, patient, _vertex(taken_by=stranger), b"PNG")
    colleague = staff.users[Role.CLINICIAN].id
    taken = photos.upload(nurse, patient, _vertex(taken_by=colleague), b"PNG")
    assert (taken.taken_by, taken.created_by) == (colleague, nurse.user_id)


def test_another_clinics_patient_and_photos_are_not_found(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> None:
    """A user of clinic B gets NotFoundError for clinic A's patient and photo."""
    patient = _patient(uow, clock, staff)
    photo = photos.upload(staff.principal(Role.NURSE), patient, _vertex(), b"PNG")
    other = seed_clinic(Accounts(uow, clock, FakeHasher())).principal(Role.CLINICIAN)
    with pytest.raises(NotFoundError):
        photos.upload(other, patient, _vertex(), b"PNG")
    with pytest.raises(NotFoundError):
        photos.content(other, photo.id)
    with pytest.raises(NotFoundError):
        photos.list_for_patient(other, patient)


def _two_dates(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> tuple[str, Photo, Photo]:
    patient = _patient(uow, clock, staff)
    nurse = staff.principal(Role.NURSE)
    later = photos.upload(nurse, patient, _vertex(TODAY), b"JPEG later")
    earlier = photos.upload(nurse, patient, _vertex(date(2026, 8, 1)), b"JPEG earlier")
    photos.upload(nurse, patient, PhotoDetails("front_hairline", TODAY), b"JPEG front")
    return patient, earlier, later


def test_two_dates_of_one_view_are_compared_earlier_first_and_both_are_audited(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> None:
    """By view and dates, or by ids in any order: the earlier photo comes first."""
    patient, earlier, later = _two_dates(uow, clock, staff, photos)
    clinician = staff.principal(Role.CLINICIAN)
    by_dates = photos.compare_dates(clinician, patient, "vertex", TODAY, date(2026, 8, 1))
    assert (by_dates.view, by_dates.first, by_dates.second) == ("vertex", earlier, later)
    by_ids = photos.compare(clinician, later.id, earlier.id)
    assert (by_ids.first, by_ids.second) == (earlier, later)
    compared = [s.entry.entity_id for s in uow.store.audit if s.entry.event_type == "photo.compare"]
    assert compared.count(earlier.id) == 2
    assert compared.count(later.id) == 2


def test_photos_of_different_views_or_a_missing_date_are_not_compared(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> None:
    """A vertex beside a hairline is refused; a date with no photo of the view is not found."""
    patient, earlier, _ = _two_dates(uow, clock, staff, photos)
    clinician = staff.principal(Role.CLINICIAN)
    front = next(
        p for p in photos.history(clinician, patient) if p.view == PhotoView.FRONT_HAIRLINE
    )
    with pytest.raises(InputError, match="view 'vertex'"):
        photos.compare(clinician, earlier.id, front.id)
    with pytest.raises(NotFoundError, match="'second_on'"):
        photos.compare_dates(clinician, patient, "vertex", TODAY, date(2026, 9, 9))


def test_a_correction_is_a_new_photo_and_the_original_is_kept(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff, photos: PhotoRecords
) -> None:
    """Relabelling keeps the bytes; the original stays, is marked replaced, and leaves the
    comparison; correcting it twice is a conflict."""
    patient, earlier, _ = _two_dates(uow, clock, staff, photos)
    nurse = staff.principal(Role.NURSE)
    fixed = photos.correct(nurse, earlier.id, _vertex(date(2026, 8, 2), note="date fixed"))
    assert fixed.replaces_id == earlier.id
    assert fixed.sha256 == earlier.sha256
    assert photos.content(nurse, fixed.id)[1] == b"JPEG earlier"
    original, replaced = photos.get(nurse, earlier.id)
    assert (original, replaced) == (earlier, True)
    assert photos.get(nurse, fixed.id) == (fixed, False)
    listed, replaced_ids = photos.list_for_patient(nurse, patient)
    assert fixed in listed.items
    assert earlier in listed.items
    assert replaced_ids == {earlier.id}
    with pytest.raises(NotFoundError):
        photos.compare_dates(nurse, patient, "vertex", date(2026, 8, 1), TODAY)
    assert photos.compare_dates(nurse, patient, "vertex", date(2026, 8, 2), TODAY).first == fixed
    with pytest.raises(ConflictError):
        photos.correct(nurse, earlier.id, _vertex())
    new_bytes = photos.correct(nurse, fixed.id, _vertex(date(2026, 8, 2)), b"PNG retaken")
    assert new_bytes.content_type == "image/png"
    assert ("photo.amend", "success") in _events(uow)
