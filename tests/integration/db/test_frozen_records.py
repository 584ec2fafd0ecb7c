"""The database itself refuses to change a countersigned consent, a withdrawal or photo bytes,
on SQLite and PostgreSQL, even for a caller who bypasses the application."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mesoscreen.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.domain.records import Consent, ConsentWithdrawal, Photo
from mesoscreen.services.patients import PatientDetails
from tests.factories import records_settings, seed_clinic, unique
from tests.fakes import FrozenClock

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    """Use cases on the shared test database."""
    built = build_services(records_settings(database_url), FrozenClock())
    yield built
    built.close()


def _consent(services: Services, status: str) -> Consent:
    """A consent stored directly through the repository, with ``status``."""
    staff = seed_clinic(services.accounts)
    clinician = staff.principal(Role.CLINICIAN)
    details = PatientDetails(family_name=unique("Vo"), given_name="An")
    patient = services.patients.register(clinician, staff.clinic.id, details)
    consent = Consent(
        id=unique("c")[:36], clinic_id=patient.clinic_id, patient_id=patient.id,
        screening_id=None, procedure="scalp-mesotherapy", template_version="1",
        template_hash="sha256:00", language="en", document={"sections": []},
        document_hash="00", signature_method="typed", signature="An Vo",
        patient_signed_at=NOW, status=status, created_by=clinician.user_id, created_at=NOW,
        updated_at=NOW,
        signed_by=clinician.user_id if status == "signed" else None,
        signed_at=NOW if status == "signed" else None,
    )  # fmt: skip
    with SqlUnitOfWorkFactory(services.engine)() as uow:
        uow.consents.add(consent)
        uow.consent_withdrawals.add(
            ConsentWithdrawal(
                id=unique("w")[:36],
                clinic_id=consent.clinic_id,
                patient_id=consent.patient_id,
                consent_id=consent.id,
                withdrawn_at=NOW,
                reason=None,
                recorded_by=clinician.user_id,
                created_at=NOW,
            )
        )
        uow.photos.add(
            Photo(
                id=consent.id,
                clinic_id=consent.clinic_id,
                patient_id=consent.patient_id,
                session_id=None,
                view="vertex",
                taken_on=NOW.date(),
                taken_by=clinician.user_id,
                content_type="image/png",
                byte_size=4,
                width=1,
                height=1,
                sha256="00",
                note=None,
                replaces_id=None,
                created_by=clinician.user_id,
                created_at=NOW,
            )
        )
        uow.photo_contents.add(consent.id, b"\x89PNG")  # the photo shares the consent's id
        uow.commit()
    return consent


def _refused(services: Services, statement: str, consent_id: str) -> None:
    with services.engine.connect() as connection, pytest.raises(DBAPIError):
        connection.execute(text(statement), {"id": consent_id})


def test_a_countersigned_consent_cannot_be_changed_or_deleted(services: Services) -> None:
    """UPDATE and DELETE of a signed consent fail in the database."""
    consent = _consent(services, "signed")
    _refused(services, "UPDATE consents SET signature = 'someone else' WHERE id = :id", consent.id)
    _refused(services, "DELETE FROM consents WHERE id = :id", consent.id)


def test_a_consent_awaiting_countersignature_can_be_countersigned(services: Services) -> None:
    """Only the countersignature step may write to a consent, and only before it is signed."""
    consent = _consent(services, "draft")
    with services.engine.begin() as connection:
        connection.execute(
            text("UPDATE consents SET status = 'signed', version = 2 WHERE id = :id"),
            {"id": consent.id},
        )
    _refused(services, "UPDATE consents SET status = 'draft' WHERE id = :id", consent.id)


def test_withdrawals_and_photo_bytes_are_append_only(services: Services) -> None:
    """A withdrawal and a photo's bytes are never updated or deleted."""
    consent = _consent(services, "signed")
    _refused(
        services, "UPDATE consent_withdrawals SET reason = 'x' WHERE consent_id = :id", consent.id
    )
    _refused(services, "DELETE FROM consent_withdrawals WHERE consent_id = :id", consent.id)
    _refused(services, "UPDATE photo_contents SET data = :id WHERE photo_id = :id", consent.id)
    _refused(services, "DELETE FROM photo_contents WHERE photo_id = :id", consent.id)
