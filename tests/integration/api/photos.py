"""Helpers that upload photos through the API as multipart/form-data."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.images import jpeg
from tests.integration.api.records import ok

TINY_JPEG = jpeg(16, 8)


def photo_form(view: str = "vertex", taken_on: str = "2026-11-20", **extra: str) -> dict[str, str]:
    """The text fields of a valid upload."""
    return {"view": view, "taken_on": taken_on, **extra}


def post_photo(
    client: TestClient,
    headers: dict[str, str],
    patient: str,
    data: bytes = TINY_JPEG,
    declared: str = "application/octet-stream",
    **fields: str,
) -> Any:
    """The response to uploading ``data`` for the patient."""
    return client.post(
        f"/api/v1/patients/{patient}/photos",
        data=photo_form(**fields),
        files={"photo": ("scalp.jpg", data, declared)},
        headers=headers,
    )


def upload_photo(
    client: TestClient,
    headers: dict[str, str],
    patient: str,
    data: bytes = TINY_JPEG,
    **fields: str,
) -> dict[str, Any]:
    """Upload a photo that must be accepted; the stored photo."""
    return ok(post_photo(client, headers, patient, data, **fields), 201)
