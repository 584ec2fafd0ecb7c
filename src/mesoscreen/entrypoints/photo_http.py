"""Photos over HTTP for the API and the pages alike: reading an upload (multipart/form-data)
and sending an image back.

The upload routes are the only ones whose bodies may pass ``max_body_bytes``: the edge lets
them through up to ``max_photo_bytes`` plus room for the form's fields and boundaries, and
the sanitiser then holds the image itself to ``max_photo_bytes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from fastapi import Request, Response
from starlette.datastructures import UploadFile

from mesoscreen.domain.errors import InputError
from mesoscreen.domain.records import Photo
from mesoscreen.domain.text import require_storable
from mesoscreen.services.photos import PhotoDetails

# Room in an upload's body for the text fields and the multipart boundaries and headers.
FORM_ALLOWANCE_BYTES = 64 * 1024
_ID = r"[^/]+"
UPLOAD_PATHS = (
    re.compile(rf"/api/v1/patients/{_ID}/photos"),
    re.compile(rf"/api/v1/photos/{_ID}/corrections"),
    re.compile(rf"/patients/{_ID}/photos"),
    re.compile(rf"/photos/{_ID}/corrections"),
)
API_FIELDS = frozenset({"view", "taken_on", "session_id", "taken_by", "note"})
PAGE_FIELDS = API_FIELDS | {"csrf", "form_key"}


def upload_caps(max_photo_bytes: int) -> list[tuple[re.Pattern[str], int]]:
    """The edge's body cap for each upload route."""
    return [(path, max_photo_bytes + FORM_ALLOWANCE_BYTES) for path in UPLOAD_PATHS]


@dataclass(frozen=True, slots=True)
class Upload:
    """The image part (None when none was sent), its declared type and the text fields."""

    data: bytes | None
    declared_type: str | None
    fields: dict[str, str]


async def read_upload(request: Request, allowed: frozenset[str]) -> Upload:
    """The posted form; InputError for an unknown field or a second file, and
    UnstorableValueError naming a text field that no database can store."""
    form = await request.form(max_files=1, max_fields=len(allowed) + 1)
    data: bytes | None = None
    declared: str | None = None
    fields: dict[str, str] = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name != "photo":
                    raise InputError(f"'{name[:40]}': unexpected file (send the image as 'photo')")
                data = await value.read()
                declared = value.content_type
            elif name not in allowed:
                expected = ", ".join(sorted(allowed))
                raise InputError(f"'{name[:40]}': unknown field (expected {expected})")
            else:
                fields[name] = require_storable(value, name)
    finally:
        # Closes the spooled file of the image part, refused or not.
        await form.close()
    return Upload(data or None, declared, fields)


def photo_details(fields: dict[str, str]) -> PhotoDetails:
    """The photo's details from the form's fields; InputError naming a missing or bad one."""
    view = fields.get("view", "").strip()
    if not view:
        raise InputError("'view': required (expected one of the standard views)")
    raw_day = fields.get("taken_on", "").strip()
    try:
        taken_on = date.fromisoformat(raw_day)
    except ValueError:
        raise InputError(
            f"'taken_on': expected a date as YYYY-MM-DD (got '{raw_day[:30]}')"
        ) from None
    return PhotoDetails(
        view=view,
        taken_on=taken_on,
        session_id=fields.get("session_id", "").strip() or None,
        taken_by=fields.get("taken_by", "").strip() or None,
        note=fields.get("note", "").strip() or None,
    )


IMAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Disposition": "inline",
    # An image is never a document: nothing in it may run or load anything.
    "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
}


def image_response(photo: Photo, data: bytes) -> Response:
    """The photo's bytes with its own content type, never cached, never sniffed."""
    return Response(data, media_type=photo.content_type, headers=IMAGE_HEADERS)
