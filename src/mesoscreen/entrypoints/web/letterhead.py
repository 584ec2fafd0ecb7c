"""The clinic's letterhead on every page and print: its name, and its logo when one is set.

The name is the clinic of the record the page shows (the patient's clinic on a handout, a
plan or a consent), else the clinics of the signed-in user. Clinic names are read through the
accounts service and kept, since a clinic's name does not change while the server runs; a
clinic the cache has not met is read again. The logo (setting ``clinic_logo``) is read and
checked once at start, and embedded in the page as a data URL, which the pages' content
security policy allows for images.
"""

from __future__ import annotations

import base64
from collections.abc import Collection
from pathlib import Path
from threading import Lock

from mesoscreen.domain.access import Principal
from mesoscreen.domain.errors import LogoError as LogoError
from mesoscreen.services.accounts import Accounts

MAX_LOGO_BYTES = 200 * 1024
_IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def read_logo(path: Path | None) -> str | None:
    """The logo as a data URL, None without one; LogoError naming the setting otherwise."""
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as unreadable:
        raise LogoError(f"clinic_logo: cannot read {path} ({unreadable.strerror})") from None
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError(f"clinic_logo: expected at most {MAX_LOGO_BYTES} bytes (got {len(data)})")
    kind = next((kind for magic, kind in _IMAGE_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise LogoError(f"clinic_logo: expected a PNG or JPEG image ({path} is neither)")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


class Letterhead:
    """Clinic names for the pages' header, cached per clinic id."""

    def __init__(self, accounts: Accounts, logo: str | None) -> None:
        self._accounts = accounts
        self.logo = logo
        self._names: dict[str, str] = {}
        self._lock = Lock()

    def _name(self, principal: Principal, clinic_id: str) -> str | None:
        with self._lock:
            known = self._names.get(clinic_id)
        if known is not None:
            return known
        clinics = self._accounts.clinics(principal)
        with self._lock:
            self._names.update({clinic.id: clinic.name for clinic in clinics})
            return self._names.get(clinic_id)

    def clinic_name(self, principal: Principal | None, record_clinic: str | None) -> str | None:
        """The name of the record's clinic, else of the user's clinics, else None."""
        if principal is None:
            return None
        wanted: Collection[str] = (
            [record_clinic]
            if record_clinic in principal.clinic_ids
            else sorted(principal.clinic_ids)
        )
        names = [name for clinic_id in wanted if (name := self._name(principal, clinic_id))]
        return " · ".join(sorted(names)) or None
