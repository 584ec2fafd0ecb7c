"""HTTP shapes of clinical photos: the upload form as OpenAPI describes it, and the records."""

from __future__ import annotations

from typing import Any

from mesoscreen.domain.records import Photo, PhotoView
from mesoscreen.entrypoints.api.record_schemas import RecordOut
from mesoscreen.entrypoints.api.schemas import Output

# The upload is multipart/form-data: the image in the part "photo", the details as fields.
UPLOAD_FIELDS = frozenset({"photo", "view", "taken_on", "session_id", "taken_by", "note"})


def upload_form(required: bool) -> dict[str, Any]:
    """The OpenAPI request body of an upload (``required``: whether the image must be sent)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["view", "taken_on", *(["photo"] if required else [])],
                        "properties": {
                            "photo": {
                                "type": "string",
                                "format": "binary",
                                "description": "The image: JPEG or PNG, judged by its content; "
                                "metadata (EXIF with GPS, XMP, IPTC, comments) is stripped.",
                            },
                            "view": {"type": "string", "enum": [v.value for v in PhotoView]},
                            "taken_on": {"type": "string", "format": "date"},
                            "session_id": {"type": "string", "maxLength": 36},
                            "taken_by": {
                                "type": "string",
                                "maxLength": 36,
                                "description": "The user who took it (default: the uploader).",
                            },
                            "note": {"type": "string", "maxLength": 2000},
                        },
                    },
                    "encoding": {"photo": {"contentType": "image/jpeg, image/png"}},
                }
            },
        }
    }


IMAGE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The photo's bytes as stored (metadata stripped); never cached.",
        "content": {
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


class PhotoOut(RecordOut, record=Photo):
    """A clinical photo's details (its bytes are fetched apart, each view audited)."""

    replaced: bool = False


class PhotoComparisonOut(Output):
    """Two photos of one patient and one view, the earlier first."""

    view: str
    first: PhotoOut
    second: PhotoOut
