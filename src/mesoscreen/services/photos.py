"""Clinical photos: standardised views at baseline and at sessions, viewed and compared.

A photo's bytes are checked and cleaned of metadata by the ``PhotoSanitiser`` port before
they are stored: ``prepare`` decodes them before any transaction is opened (the HTTP edges run
it in a bounded worker thread, since decoding a large image takes seconds of CPU), then
``add`` or ``replace`` stores the prepared upload; ``upload`` and ``correct`` do both.
Only roles that read clinical data see photos, and every access is audited:
each list, each read of a photo's details and each time its picture is shown. A photo is
never changed: a correction is a new photo that replaces it, and the original is kept.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import ConflictError, InputError, NotFoundError, UnsupportedMediaError
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import Page, Patient, Photo, PhotoView
from mesoscreen.services.ports import (
    CleanImage,
    Clock,
    PhotoSanitiser,
    UnitOfWork,
    UnitOfWorkFactory,
)
from mesoscreen.services.recording import (
    FormKey,
    RecordsUseCases,
    Target,
    every_record,
    page_bounds,
)

RESOURCE = "Media"  # the FHIR resource a clinical photo maps to
MAX_NOTE_CHARS = 2000
# A date has no time zone: a clinic east of UTC is already on UTC's tomorrow.
_DATE_LINE_SLACK = timedelta(days=1)
_DECLARABLE = frozenset({"image/jpeg", "image/png"})


@dataclass(frozen=True, slots=True)
class PhotoDetails:
    """Which view, when, at which session (None: baseline), who took it, and a note."""

    view: str
    taken_on: date
    session_id: str | None = None
    taken_by: str | None = None  # None: the uploading user
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PreparedUpload:
    """An upload's image as the sanitiser cleaned it (None: no new image, a relabelling).

    Made only by ``PhotoRecords.prepare``: nothing else hands the store an image.
    """

    image: CleanImage | None


@dataclass(frozen=True, slots=True)
class PhotoComparison:
    """Two photos of one patient and one view, the earlier first."""

    view: str
    first: Photo
    second: Photo


def _photo_target(photo: Photo) -> Target:
    return Target(RESOURCE, photo.id, photo.clinic_id, photo.patient_id)


class PhotoRecords(RecordsUseCases):
    """Upload, list, show and compare the clinical photos of the caller's clinics."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, sanitiser: PhotoSanitiser) -> None:
        super().__init__(uow, clock)
        self.sanitiser = sanitiser

    # Writing.

    def prepare(
        self,
        principal: Principal,
        data: bytes | None,
        declared_type: str | None = None,
        *,
        patient_id: str | None = None,
        replacing: str | None = None,
    ) -> PreparedUpload:
        """Check the caller may add photos, then decode and clean ``data`` (no transaction is
        open meanwhile); a refusal is audited against the patient or the photo ``replacing``.
        A new photo needs an image; a correction may keep the old one (``data`` None or empty)."""
        event = "photo.amend" if replacing else "photo.create"
        target = Target(RESOURCE, replacing, patient_id=patient_id)
        with self.audited(principal, event, AuditAction.CREATE, target):
            self.require(principal, Permission.PHOTO_WRITE)
            if not data:
                if replacing:
                    return PreparedUpload(None)
                raise InputError("'photo': required (expected a JPEG or PNG file; got none)")
            return PreparedUpload(self._clean(data, declared_type))

    def upload(
        self,
        principal: Principal,
        patient_id: str,
        details: PhotoDetails,
        data: bytes | None,
        declared_type: str | None = None,
        form_key: FormKey | None = None,
    ) -> Photo:
        """Store a new photo of the patient; its bytes are cleaned first."""
        prepared = self.prepare(principal, data, declared_type, patient_id=patient_id)
        return self.add(principal, patient_id, details, prepared, form_key)

    def add(
        self,
        principal: Principal,
        patient_id: str,
        details: PhotoDetails,
        prepared: PreparedUpload,
        form_key: FormKey | None = None,
    ) -> Photo:
        """Store a new photo of the patient from its prepared (cleaned) image (once per
        ``form_key``)."""
        target = Target(RESOURCE, patient_id=patient_id)
        with self.transaction(principal, "photo.create", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.PHOTO_WRITE)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            if prepared.image is None:
                raise InputError(
                    "'photo': required (expected a JPEG or PNG file; got none)",
                    problems=problem(Reason.REQUIRED, "photo"),
                )
            return self._store(uow, principal, patient, details, prepared.image, None, form_key)

    def correct(
        self,
        principal: Principal,
        photo_id: str,
        details: PhotoDetails,
        data: bytes | None = None,
        declared_type: str | None = None,
        form_key: FormKey | None = None,
    ) -> Photo:
        """A new photo replacing ``photo_id`` (new bytes, or the same ones relabelled)."""
        prepared = self.prepare(principal, data, declared_type, replacing=photo_id)
        return self.replace(principal, photo_id, details, prepared, form_key)

    def replace(
        self,
        principal: Principal,
        photo_id: str,
        details: PhotoDetails,
        prepared: PreparedUpload,
        form_key: FormKey | None = None,
    ) -> Photo:
        """A new photo replacing ``photo_id``, with the prepared image or the old one (once
        per ``form_key``)."""
        target = Target(RESOURCE, photo_id)
        with self.transaction(principal, "photo.amend", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.PHOTO_WRITE)
            old = uow.photos.get(photo_id, principal.clinic_ids)
            if uow.photos.replaced(old.id):
                raise ConflictError(
                    f"photo '{old.id}': already corrected (expected the latest version)",
                    problems=problem(Reason.ALREADY_CORRECTED),
                )
            patient = uow.patients.get(old.patient_id, principal.clinic_ids)
            if prepared.image is not None:
                image = prepared.image
            else:
                kept = uow.photo_contents.get(old.id)
                image = CleanImage(kept, old.content_type, old.width, old.height)
            return self._store(uow, principal, patient, details, image, old.id, form_key)

    def _clean(self, data: bytes, declared_type: str | None) -> CleanImage:
        """The sanitised image; a declared image type must agree with the content."""
        image = self.sanitiser.sanitise(data)
        declared = (declared_type or "").split(";")[0].strip().lower()
        if declared in _DECLARABLE and declared != image.content_type:
            raise UnsupportedMediaError(
                f"'photo': the content is {image.content_type} (declared as {declared})",
                problems=problem(Reason.PHOTO_TYPE_MISMATCH, "photo"),
            )
        return image

    def _store(
        self,
        uow: UnitOfWork,
        principal: Principal,
        patient: Patient,
        details: PhotoDetails,
        image: CleanImage,
        replaces_id: str | None,
        form_key: FormKey | None = None,
    ) -> Photo:
        """Validate the details, add the photo and its bytes, audit and commit."""
        self._validate(uow, principal, patient, details)
        note = (details.note or "").strip() or None
        photo = Photo(
            id=str(uuid.uuid4()),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            session_id=details.session_id,
            view=details.view,
            taken_on=details.taken_on,
            taken_by=details.taken_by or principal.user_id,
            content_type=image.content_type,
            byte_size=len(image.data),
            width=image.width,
            height=image.height,
            sha256=hashlib.sha256(image.data).hexdigest(),
            note=note,
            replaces_id=replaces_id,
            created_by=principal.user_id,
            created_at=self.clock.now(),
        )
        uow.photos.add(photo)
        uow.photo_contents.add(photo.id, image.data)
        self.claim(uow, form_key, photo.clinic_id, photo.id)
        event = "photo.amend" if replaces_id else "photo.create"
        uow.audit.append(self.entry(principal, event, AuditAction.CREATE, _photo_target(photo)))
        uow.commit()
        return photo

    def _validate(
        self, uow: UnitOfWork, principal: Principal, patient: Patient, details: PhotoDetails
    ) -> None:
        """View, date, session and photographer; InputError or NotFoundError naming the field."""
        views = [v.value for v in PhotoView]
        if details.view not in views:
            raise InputError(
                f"photo 'view': expected one of {', '.join(views)} (got '{details.view[:40]}')",
                problems=problem(Reason.NOT_A_CHOICE, "view"),
            )
        latest = self.clock.today() + _DATE_LINE_SLACK
        if details.taken_on > latest:
            raise InputError(
                "photo 'taken_on': must not lie in the future "
                f"(got {details.taken_on.isoformat()})",
                problems=problem(Reason.IN_THE_FUTURE, "taken_on", got=details.taken_on),
            )
        if patient.birth_date is not None and details.taken_on < patient.birth_date:
            raise InputError(
                "photo 'taken_on': must not be before the patient's date of birth "
                f"(got {details.taken_on.isoformat()})",
                problems=problem(Reason.BEFORE_BIRTH, "taken_on", got=details.taken_on),
            )
        if len(details.note or "") > MAX_NOTE_CHARS:
            raise InputError(
                f"photo 'note': must be at most {MAX_NOTE_CHARS} characters "
                f"(got {len(details.note or '')})",
                problems=problem(
                    Reason.TOO_LONG, "note", most=MAX_NOTE_CHARS, got=len(details.note or "")
                ),
            )
        if details.session_id is not None:
            session = uow.treatment_sessions.get(details.session_id, principal.clinic_ids)
            if session.patient_id != patient.id:
                raise InputError(
                    f"photo 'session_id': expected a session of this patient "
                    f"(got session '{session.id}')",
                    problems=problem(Reason.OTHER_PATIENTS_RECORD, "session_id"),
                )
        if details.taken_by is not None:
            photographer = uow.users.get(details.taken_by)
            if patient.clinic_id not in photographer.clinic_ids or photographer.disabled:
                raise NotFoundError(f"photo 'taken_by': user '{details.taken_by}' not found")

    # Reading: every access is audited.

    def list_for_patient(
        self, principal: Principal, patient_id: str, offset: int = 0, limit: int | None = None
    ) -> tuple[Page[Photo], frozenset[str]]:
        """One page of the patient's photos (details only), oldest first, and which of them a
        correction replaced."""
        target = Target(RESOURCE, patient_id=patient_id)
        with self.transaction(principal, "photo.search", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            page = uow.photos.page(
                principal.clinic_ids, {"patient_id": patient.id}, *page_bounds(offset, limit)
            )
            replaced = uow.photos.replaced_among([p.id for p in page.items])
            found = Target(RESOURCE, None, patient.clinic_id, patient.id)
            uow.audit.append(self.entry(principal, "photo.search", AuditAction.EXECUTE, found))
            uow.commit()
            return page, replaced

    def history(self, principal: Principal, patient_id: str) -> list[Photo]:
        """Every photo of the patient (details only), oldest first; one audited search."""
        target = Target(RESOURCE, patient_id=patient_id)
        with self.transaction(principal, "photo.search", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            photos = list(self._all(uow, principal, patient.id))
            found = Target(RESOURCE, None, patient.clinic_id, patient.id)
            uow.audit.append(self.entry(principal, "photo.search", AuditAction.EXECUTE, found))
            uow.commit()
            return photos

    @staticmethod
    def _all(uow: UnitOfWork, principal: Principal, patient_id: str) -> Iterator[Photo]:
        return every_record(uow.photos, principal.clinic_ids, {"patient_id": patient_id})

    def get(self, principal: Principal, photo_id: str) -> tuple[Photo, bool]:
        """The photo's details and whether a correction replaced it."""
        target = Target(RESOURCE, photo_id)
        with self.transaction(principal, "photo.read", AuditAction.READ, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            photo, replaced = uow.photos.get_with_replaced(photo_id, principal.clinic_ids)
            uow.audit.append(
                self.entry(principal, "photo.read", AuditAction.READ, _photo_target(photo))
            )
            uow.commit()
            return photo, replaced

    def content(self, principal: Principal, photo_id: str) -> tuple[Photo, bytes]:
        """The photo's details and its (clean) bytes; each call is one audited view."""
        target = Target(RESOURCE, photo_id)
        with self.transaction(principal, "photo.view", AuditAction.READ, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            photo = uow.photos.get(photo_id, principal.clinic_ids)
            data = uow.photo_contents.get(photo.id)
            uow.audit.append(
                self.entry(principal, "photo.view", AuditAction.READ, _photo_target(photo))
            )
            uow.commit()
            return photo, data

    def staff_names(self, principal: Principal, user_ids: Iterable[str]) -> dict[str, str]:
        """The names (display name, else username) of those of ``user_ids`` who share a clinic
        with the caller (who took the photos), for showing beside them."""
        self.require(principal, Permission.CLINICAL_READ)
        names = {}
        with self.uow() as uow:
            for user_id in set(user_ids):
                try:
                    user = uow.users.get(user_id)
                except NotFoundError:
                    continue
                if principal.clinic_ids & set(user.clinic_ids):
                    names[user_id] = user.shown_name
        return names

    # Comparing.

    def compare(self, principal: Principal, first_id: str, second_id: str) -> PhotoComparison:
        """Two photos of the same patient and view, the earlier first."""
        target = Target(RESOURCE, first_id)
        with self.transaction(principal, "photo.compare", AuditAction.READ, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            first = uow.photos.get(first_id, principal.clinic_ids)
            second = uow.photos.get(second_id, principal.clinic_ids)
            if second.patient_id != first.patient_id:
                raise InputError(
                    f"photo comparison 'second': expected a photo of the same patient "
                    f"(got photo '{second.id}')",
                    problems=problem(Reason.NOT_SAME_PATIENT_OR_VIEW, "second"),
                )
            if second.view != first.view:
                raise InputError(
                    f"photo comparison 'second': expected a photo of view '{first.view}' "
                    f"(got '{second.view}')",
                    problems=problem(Reason.NOT_SAME_PATIENT_OR_VIEW, "second"),
                )
            return self._compared(uow, principal, first, second)

    def compare_dates(
        self, principal: Principal, patient_id: str, view: str, first_on: date, second_on: date
    ) -> PhotoComparison:
        """The patient's latest photos of ``view`` taken on each of the two dates."""
        target = Target(RESOURCE, patient_id=patient_id)
        with self.transaction(principal, "photo.compare", AuditAction.READ, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            if view not in {v.value for v in PhotoView}:
                raise InputError(
                    f"photo comparison 'view': expected one of "
                    f"{', '.join(v.value for v in PhotoView)} (got '{view[:40]}')",
                    problems=problem(Reason.NOT_A_CHOICE, "view"),
                )
            photos = [p for p in self._all(uow, principal, patient.id) if p.view == view]
            replaced = {p.replaces_id for p in photos if p.replaces_id}
            current = [p for p in photos if p.id not in replaced]

            def taken(day: date, field: str) -> Photo:
                found = [p for p in current if p.taken_on == day]
                if not found:
                    raise NotFoundError(
                        f"photo comparison '{field}': no photo of view '{view[:40]}' "
                        f"taken on {day.isoformat()}",
                        problems=problem(Reason.NO_PHOTO_ON_DATE, field, view=view[:40], got=day),
                    )
                return max(found, key=lambda p: (p.created_at, p.id))

            return self._compared(
                uow, principal, taken(first_on, "first_on"), taken(second_on, "second_on")
            )

    def _compared(
        self, uow: UnitOfWork, principal: Principal, first: Photo, second: Photo
    ) -> PhotoComparison:
        """Both photos audited as read; the earlier (by date taken) first."""
        for photo in dict.fromkeys((first, second)):
            uow.audit.append(
                self.entry(principal, "photo.compare", AuditAction.READ, _photo_target(photo))
            )
        uow.commit()
        earlier, later = sorted((first, second), key=lambda p: (p.taken_on, p.created_at))
        return PhotoComparison(first.view, earlier, later)
