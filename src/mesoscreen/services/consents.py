"""Informed consent: the patient signs the document made for them, a clinician countersigns,
the patient may withdraw; and the rule a treatment session must meet before it starts.

The rule: a session needs a countersigned consent that was not withdrawn. The first session of
a plan (or a session without a plan) needs it to be of the template version in force today, so
a new template version means consent again before a new course; later sessions of a plan
started under an older version go on under it. A correction of a recorded session is not a
new session and needs nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.consent import (
    ConsentTemplate,
    ConsentTemplates,
    SignatureMethod,
    canonical_hash,
    check_drawn_signature,
    render_document,
    typed_name_matches,
)
from mesoscreen.domain.errors import ConflictError, ConsentRequiredError, InputError
from mesoscreen.domain.knowledge_base import KnowledgeBase
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import Consent, ConsentWithdrawal, RecordStatus, Screening
from mesoscreen.domain.vocabulary import Language
from mesoscreen.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from mesoscreen.services.recording import FormKey, RecordsUseCases, Target, every_record
from mesoscreen.services.screening_records import treatable_screening
from mesoscreen.services.signed_content import seal

PROCEDURE = "scalp-mesotherapy"
RESOURCE = "Consent"


@dataclass(frozen=True, slots=True)
class PatientSignature:
    """How the patient signed, what they signed with, and that they confirmed the declaration."""

    method: str
    value: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class ConsentState:
    """A consent with its withdrawal, if any, and whether its template version is current."""

    consent: Consent
    withdrawal: ConsentWithdrawal | None
    current_version: bool

    @property
    def intact(self) -> bool:
        """Whether the stored document still has the hash it was signed with."""
        return canonical_hash(self.consent.document) == self.consent.document_hash

    @property
    def active(self) -> bool:
        """Countersigned and not withdrawn: it permits treatment."""
        return self.consent.status == RecordStatus.SIGNED and self.withdrawal is None


def _withdrawals(
    uow: UnitOfWork, clinic_ids: Collection[str], patient_id: str
) -> dict[str, ConsentWithdrawal]:
    where = {"patient_id": patient_id}
    return {w.consent_id: w for w in every_record(uow.consent_withdrawals, clinic_ids, where)}


def require_consent_for_session(
    uow: UnitOfWork,
    clinic_ids: Collection[str],
    patient_id: str,
    plan_id: str | None,
    templates: ConsentTemplates,
    today: date,
) -> None:
    """Raise ConsentRequiredError unless a new session of the patient may start (module doc)."""
    withdrawn = _withdrawals(uow, clinic_ids, patient_id)
    consents = list(every_record(uow.consents, clinic_ids, {"patient_id": patient_id}))
    active = [c for c in consents if c.status == RecordStatus.SIGNED and c.id not in withdrawn]
    if not active:
        if any(c.id in withdrawn for c in consents):
            raise ConsentRequiredError(
                "session: the patient withdrew consent (expected a new countersigned consent "
                "before any further session)",
                problems=problem(Reason.CONSENT_WITHDRAWN),
            )
        raise ConsentRequiredError(
            "session: expected a consent signed by the patient and countersigned by a "
            "clinician (got none)",
            problems=problem(Reason.CONSENT_MISSING),
        )
    first = (
        plan_id is None
        or uow.treatment_sessions.page(
            clinic_ids, {"patient_id": patient_id, "plan_id": plan_id}, 0, 1
        ).total
        == 0
    )
    if first:
        current = templates.current(PROCEDURE, today)
        if not any(c.template_version == current.version for c in active):
            versions = sorted({c.template_version for c in active})
            raise ConsentRequiredError(
                f"session: a first session needs consent to template version {current.version} "
                f"(got version {', '.join(versions)}): take consent again",
                problems=problem(Reason.CONSENT_OLD_TEMPLATE, version=current.version),
            )


class ConsentRecords(RecordsUseCases):
    """Consents of the caller's clinics."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, kb: KnowledgeBase, templates: ConsentTemplates
    ) -> None:
        super().__init__(uow, clock)
        self.kb = kb
        self.templates = templates

    def current_template(self) -> ConsentTemplate:
        """The template version in force today."""
        return self.templates.current(PROCEDURE, self.clock.today())

    def _screening(self, uow: UnitOfWork, principal: Principal, screening_id: str) -> Screening:
        """A signed, latest screening whose outcome permits treatment."""
        return treatable_screening(uow, principal.clinic_ids, screening_id, "consent")

    def document(
        self, principal: Principal, screening_id: str, language: Language
    ) -> dict[str, Any]:
        """The document the patient will read and sign, made now from the current template."""
        target = Target("Screening", screening_id)
        with self.transaction(principal, "consent.prepare", AuditAction.READ, target) as uow:
            self.require(principal, Permission.CONSENT_RECORD)
            screening = self._screening(uow, principal, screening_id)
            document = render_document(self.current_template(), self.kb.complications,
                                       screening.outcome, screening.decision, language)  # fmt: skip
            seen = Target("Screening", screening.id, screening.clinic_id, screening.patient_id)
            uow.audit.append(self.entry(principal, "consent.prepare", AuditAction.READ, seen))
            uow.commit()
            return document

    def take(
        self,
        principal: Principal,
        screening_id: str,
        language: Language,
        signature: PatientSignature,
        template_version: str | None = None,
        form_key: FormKey | None = None,
    ) -> Consent:
        """Freeze the document as the patient signed it; it then awaits countersignature."""
        target = Target(RESOURCE)
        with self.transaction(principal, "consent.create", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.CONSENT_RECORD)
            screening = self._screening(uow, principal, screening_id)
            patient = uow.patients.get(screening.patient_id, principal.clinic_ids)
            template = self.current_template()
            if template_version is not None and template_version != template.version:
                raise ConflictError(
                    f"consent template: version {template.version} is now in force (the patient "
                    f"read version {template_version}): show the new text and sign again",
                    problems=problem(Reason.CONSENT_TEMPLATE_CHANGED, version=template.version),
                )
            if not signature.confirmed:
                raise InputError(
                    "'confirmed': the patient must confirm the declaration",
                    problems=problem(Reason.DECLARATION_UNCONFIRMED, "confirmed"),
                )
            if signature.method == SignatureMethod.TYPED:
                if not typed_name_matches(signature.value, patient.family_name, patient.given_name):
                    raise InputError(
                        "'signature': expected the patient's full name as registered",
                        problems=problem(Reason.SIGNATURE_NAME_MISMATCH, "signature"),
                    )
            elif signature.method == SignatureMethod.DRAWN:
                check_drawn_signature(signature.value)
            else:
                raise InputError(
                    f"'signature_method': expected one of {', '.join(SignatureMethod.ALL)} "
                    f"(got '{signature.method[:20]}')",
                    problems=problem(Reason.NOT_A_CHOICE, "signature_method"),
                )
            document = render_document(template, self.kb.complications, screening.outcome,
                                       screening.decision, language)  # fmt: skip
            now = self.clock.now()
            consent = Consent(
                id=str(uuid.uuid4()), clinic_id=patient.clinic_id, patient_id=patient.id,
                screening_id=screening.id, procedure=template.procedure,
                template_version=template.version, template_hash=template.hash,
                language=language.value, document=document, document_hash=canonical_hash(document),
                signature_method=signature.method, signature=signature.value,
                patient_signed_at=now, status=RecordStatus.DRAFT.value,
                created_by=principal.user_id, created_at=now, updated_at=now,
            )  # fmt: skip
            uow.consents.add(consent)
            self.claim(uow, form_key, consent.clinic_id, consent.id)
            done = Target(RESOURCE, consent.id, consent.clinic_id, consent.patient_id)
            uow.audit.append(self.entry(principal, "consent.create", AuditAction.CREATE, done))
            uow.commit()
            return consent

    def countersign(self, principal: Principal, consent_id: str, expected_version: int) -> Consent:
        """The clinician's countersignature: from now on the consent never changes."""
        target = Target(RESOURCE, consent_id)
        with self.transaction(principal, "consent.sign", AuditAction.UPDATE, target) as uow:
            self.require(principal, Permission.CONSENT_COUNTERSIGN)
            consent = uow.consents.get(consent_id, principal.clinic_ids)
            if consent.status == RecordStatus.SIGNED:
                raise ConflictError(
                    f"consent '{consent.id}': already countersigned",
                    problems=problem(Reason.ALREADY_COUNTERSIGNED),
                )
            if consent.id in _withdrawals(uow, principal.clinic_ids, consent.patient_id):
                raise ConflictError(
                    f"consent '{consent.id}': withdrawn (take consent again)",
                    problems=problem(Reason.CONSENT_WITHDRAWN),
                )
            now = self.clock.now()
            signed = replace(
                consent,
                status=RecordStatus.SIGNED.value,
                signed_by=principal.user_id,
                signed_at=now,
                updated_at=now,
                version=expected_version + 1,
            )
            uow.consents.save(signed, expected_version)
            done = Target(RESOURCE, signed.id, signed.clinic_id, signed.patient_id)
            sealed = seal(uow.consents, signed)
            uow.audit.append(
                self.entry(principal, "consent.sign", AuditAction.UPDATE, done, detail=sealed)
            )
            uow.commit()
            return signed

    def withdraw(
        self, principal: Principal, consent_id: str, reason: str | None
    ) -> ConsentWithdrawal:
        """Record that the patient withdrew the consent; no further session may start under it."""
        target = Target(RESOURCE, consent_id)
        with self.transaction(principal, "consent.withdraw", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.CONSENT_RECORD)
            consent = uow.consents.get(consent_id, principal.clinic_ids)
            if consent.id in _withdrawals(uow, principal.clinic_ids, consent.patient_id):
                raise ConflictError(
                    f"consent '{consent.id}': already withdrawn",
                    problems=problem(Reason.ALREADY_WITHDRAWN),
                )
            now = self.clock.now()
            withdrawal = ConsentWithdrawal(
                id=str(uuid.uuid4()), clinic_id=consent.clinic_id, patient_id=consent.patient_id,
                consent_id=consent.id, withdrawn_at=now, reason=(reason or "").strip() or None,
                recorded_by=principal.user_id, created_at=now,
            )  # fmt: skip
            uow.consent_withdrawals.add(withdrawal)
            done = Target(RESOURCE, consent.id, consent.clinic_id, consent.patient_id)
            uow.audit.append(self.entry(principal, "consent.withdraw", AuditAction.CREATE, done))
            uow.commit()
            return withdrawal

    def session_blocker(
        self, principal: Principal, patient_id: str, plan_id: str | None
    ) -> ConsentRequiredError | None:
        """Why a new session of the patient may not start yet, or None (audited read)."""
        target = Target(RESOURCE, patient_id=patient_id)
        with self.transaction(principal, "consent.check", AuditAction.READ, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            try:
                require_consent_for_session(uow, principal.clinic_ids, patient.id, plan_id,
                                            self.templates, self.clock.today())  # fmt: skip
                problem = None
            except ConsentRequiredError as refused:
                problem = refused
            seen = Target(RESOURCE, None, patient.clinic_id, patient.id)
            uow.audit.append(self.entry(principal, "consent.check", AuditAction.READ, seen))
            uow.commit()
            return problem

    def _state(self, consent: Consent, withdrawals: dict[str, ConsentWithdrawal]) -> ConsentState:
        current = consent.template_version == self.current_template().version
        return ConsentState(consent, withdrawals.get(consent.id), current)

    def get(self, principal: Principal, consent_id: str) -> ConsentState:
        """One consent with its withdrawal (audited read)."""
        target = Target(RESOURCE, consent_id)
        with self.transaction(principal, "consent.read", AuditAction.READ, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            consent = uow.consents.get(consent_id, principal.clinic_ids)
            state = self._state(
                consent, _withdrawals(uow, principal.clinic_ids, consent.patient_id)
            )
            done = Target(RESOURCE, consent.id, consent.clinic_id, consent.patient_id)
            uow.audit.append(self.entry(principal, "consent.read", AuditAction.READ, done))
            uow.commit()
            return state

    def list_for_patient(self, principal: Principal, patient_id: str) -> list[ConsentState]:
        """The patient's consents, oldest first (audited)."""
        target = Target(RESOURCE, patient_id=patient_id)
        with self.transaction(principal, "consent.search", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            withdrawals = _withdrawals(uow, principal.clinic_ids, patient.id)
            consents = every_record(uow.consents, principal.clinic_ids, {"patient_id": patient.id})
            found = [self._state(c, withdrawals) for c in consents]
            seen = Target(RESOURCE, None, patient.clinic_id, patient.id)
            uow.audit.append(self.entry(principal, "consent.search", AuditAction.EXECUTE, seen))
            uow.commit()
            return found
