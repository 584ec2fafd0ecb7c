"""Nothing typed is lost at the idle timeout: a form posted after its session ended is kept.

The form is kept only when it carries the CSRF token of the session it was typed in (so no
other site can plant one), for ``KEEP_FOR`` at most, sealed with a key only the posting
browser holds (``FormSealer``), and given back once, to the same user signed in again in the
same browser, on the page it was typed on, to be checked and submitted by hand.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from mesoscreen.domain.access import Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.services.authentication import token_hash
from mesoscreen.services.ports import Clock, UnitOfWorkFactory
from mesoscreen.services.recording import RecordsUseCases, Target

KEEP_FOR = timedelta(hours=1)
# Fields never kept: the dead session's CSRF token, and nothing longer than a form's text.
_NOT_KEPT = frozenset({"csrf"})
MAX_KEPT_CHARS = 200_000


class FormSealer(Protocol):
    """Seals kept forms with a key derived from the browser's token."""

    def seal(self, token: str, plaintext: bytes) -> str:
        """``plaintext`` sealed for ``token``."""
        ...

    def open(self, token: str, sealed: str) -> bytes | None:
        """The plaintext, or None when it was not sealed for ``token``."""
        ...


@dataclass(frozen=True, slots=True)
class KeptForm:
    """A form given back: where it posts, the page it was typed on, and its fields."""

    action: str
    page: str
    fields: dict[str, str]


def _row_key(token: str) -> str:
    """The row's key: a hash of the browser's token under another label than the seal's."""
    return hashlib.sha256(b"mesoscreen kept form row\x00" + token.encode()).hexdigest()


class KeptForms(RecordsUseCases):
    """Keep a form posted after the timeout, and give it back after sign-in."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, sealer: FormSealer) -> None:
        super().__init__(uow, clock)
        self.sealer = sealer

    def keep(
        self,
        session_token: str,
        csrf_token: str | None,
        action: str,
        page: str,
        fields: dict[str, str],
    ) -> str | None:
        """Keep ``fields`` posted to ``action`` from ``page`` with a session that has ended;
        the browser's token to find it again, or None when it is not kept (no such session,
        not its CSRF token, or too large)."""
        kept = {name: value for name, value in fields.items() if name not in _NOT_KEPT}
        if not csrf_token or sum(len(k) + len(v) for k, v in kept.items()) > MAX_KEPT_CHARS:
            return None
        now = self.clock.now()
        with self.uow() as uow:
            session = uow.auth_sessions.get(token_hash(session_token))
            if session is None or not secrets.compare_digest(
                token_hash(csrf_token), session.csrf_hash
            ):
                return None
            user = uow.users.get(session.user_id)
            token = secrets.token_urlsafe(32)
            content = {"user_id": user.id, "action": action, "page": page, "fields": kept}
            sealed = self.sealer.seal(token, json.dumps(content).encode())
            uow.kept_forms.keep(_row_key(token), page, sealed, now, now + KEEP_FOR)
            target = Target("KeptForm", clinics=user.clinic_ids)
            entry = self.entry(None, "form.keep", AuditAction.CREATE, target)
            uow.audit.append(entry)
            uow.commit()
            return token

    def take(self, principal: Principal, token: str, page: str) -> KeptForm | None:
        """The form kept for this browser's ``token`` if it was typed on ``page`` by the same
        user; it is then forgotten (given back once). Another user signed in in the same
        browser never sees it: it is forgotten unread."""
        now = self.clock.now()
        with self.uow() as uow:
            found = uow.kept_forms.find(_row_key(token), now)
            if found is None or found[0] != page:
                return None
            uow.kept_forms.forget(_row_key(token))
            opened = self.sealer.open(token, found[1])
            content = json.loads(opened) if opened is not None else {}
            if content.get("user_id") != principal.user_id:
                uow.commit()
                return None
            uow.audit.append(
                self.entry(principal, "form.restore", AuditAction.READ, Target("KeptForm"))
            )
            uow.commit()
            return KeptForm(str(content["action"]), str(content["page"]),
                            {str(k): str(v) for k, v in content["fields"].items()})  # fmt: skip
