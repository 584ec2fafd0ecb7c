"""One-use form keys: the record a web form already made, so a second submission shows it.

A form that creates a record carries a fresh key each time it is shown; the service that
creates the record stores the key with it in the same transaction (``RecordsUseCases.claim``),
under a primary key on (clinic, form, key). A second submission, sequential or concurrent,
finds the first record here instead of making a duplicate.
"""

from __future__ import annotations

from mesoscreen.domain.access import Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.services.recording import FormKey, RecordsUseCases, Target


class FormKeys(RecordsUseCases):
    """Look up what a form's key already made."""

    def earlier(self, principal: Principal, form_key: FormKey) -> str | None:
        """The id of the record ``form_key`` made in the caller's clinics, if it made one.

        Only a key lookup (the record itself is read, and audited, by the page that shows it).
        """
        target = Target("FormKey")
        with self.transaction(principal, "record.replayed", AuditAction.READ, target) as uow:
            return uow.form_keys.find(principal.clinic_ids, form_key.form, form_key.key)
