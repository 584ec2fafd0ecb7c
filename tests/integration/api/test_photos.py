"""Photos through the HTTP API on SQLite and PostgreSQL: upload, refusals, viewing, comparison."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import TwoClinics
from tests.images import PATIENT_TEXT, gif, jpeg, noise_png, opened, png, png_header_only
from tests.integration.api.conftest import bearer
from tests.integration.api.photos import photo_form, post_photo, upload_photo
from tests.integration.api.records import full_record, new_patient, ok


@pytest.fixture
def clinician(client: TestClient, clinics: TwoClinics) -> dict[str, str]:
    """A clinician of clinic A."""
    return bearer(client, clinics.a.users[Role.CLINICIAN])


@pytest.fixture
def patient(client: TestClient, clinics: TwoClinics, clinician: dict[str, str]) -> str:
    """A patient of clinic A."""
    return new_patient(client, clinician, clinics.a.clinic.id)


def _audit(client: TestClient, clinics: TwoClinics, event_type: str) -> list[dict[str, object]]:
    """Clinic A's audit entries of ``event_type`` (the newest 200 entries)."""
    admin = bearer(client, clinics.a.users[Role.ADMIN])
    total = ok(client.get("/api/v1/audit", params={"limit": 1}, headers=admin))["total"]
    params = {"limit": 200, "offset": max(total - 200, 0)}
    items = ok(client.get("/api/v1/audit", params=params, headers=admin))["items"]
    return [e for e in items if e["event_type"] == event_type]


def test_an_uploaded_photo_is_stored_clean_with_its_details(
    client: TestClient, clinics: TwoClinics, clinician: dict[str, str]
) -> None:
    """GPS EXIF sent in the upload is absent from the stored bytes; the details say what
    was kept: view, date, session, taker, size, type and the hash of the clean bytes."""
    # A patient with a recorded session (and whatever a session needs before it).
    record = full_record(client, clinician, clinics.a.clinic.id)
    patient, session = record.patient, record.session
    upload = jpeg(120, 80, gps=True)
    created = upload_photo(client, clinician, patient, upload, session_id=session, note="baseline")
    assert created["view"] == "vertex"
    assert created["taken_on"] == "2026-11-20"
    assert created["session_id"] == session
    assert created["content_type"] == "image/jpeg"
    assert (created["width"], created["height"]) == (120, 80)
    content = client.get(f"/api/v1/photos/{created['id']}/content", headers=clinician)
    assert content.status_code == 200
    assert content.headers["content-type"] == "image/jpeg"
    assert content.headers["cache-control"] == "no-store"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"] == "inline"
    stored = content.content
    assert created["byte_size"] == len(stored)
    assert created["sha256"] == hashlib.sha256(stored).hexdigest()
    assert stored != upload
    assert not opened(stored).getexif()
    assert PATIENT_TEXT.encode() not in stored
    details = ok(client.get(f"/api/v1/photos/{created['id']}", headers=clinician))
    assert details == created | {"replaced": False}
    listed = ok(client.get(f"/api/v1/patients/{patient}/photos", headers=clinician))
    assert [p["id"] for p in listed["items"]] == [created["id"]]


@pytest.mark.parametrize(
    ("data", "declared", "status", "code"),
    [
        (gif(), "image/gif", 415, "unsupported_media_type"),
        (b"MZ\x90\x00 an executable", "image/jpeg", 415, "unsupported_media_type"),
        (png(), "image/jpeg", 415, "unsupported_media_type"),
        (png_header_only(10_000, 5_000), "image/png", 422, "invalid_input"),
    ],
    ids=["gif", "garbage-declared-jpeg", "png-declared-jpeg", "too-many-pixels"],
)
def test_a_photo_of_the_wrong_type_or_too_many_pixels_is_refused_naming_the_field(
    client: TestClient,
    clinician: dict[str, str],
    patient: str,
    data: bytes,
    declared: str,
    status: int,
    code: str,
) -> None:
    """The content decides, never the declared type; nothing is stored."""
    response = post_photo(client, clinician, patient, data, declared)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert "'photo'" in response.json()["detail"]
    listed = ok(client.get(f"/api/v1/patients/{patient}/photos", headers=clinician))
    assert listed["total"] == 0


def test_a_photo_over_the_size_limit_is_refused_with_413(
    client: TestClient, services: Services, clinics: TwoClinics, patient: str
) -> None:
    """Past max_photo_bytes the sanitiser refuses with 413; past the upload cap the edge
    refuses before any route reads the body."""
    clinician = bearer(client, clinics.a.users[Role.CLINICIAN])
    limit = services.settings.max_photo_bytes
    big = jpeg(16, 8) + b"\x00" * (limit + 1)  # trailing bytes after the image's end
    response = post_photo(client, clinician, patient, big)
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "too_large"
    assert f"at most {limit} bytes" in response.json()["detail"]
    huge = b"\xff\xd8\xff" + b"\x00" * (limit + 200_000)
    response = post_photo(client, clinician, patient, huge)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_uploads_may_pass_the_json_body_cap_but_other_routes_may_not(
    client: TestClient, services: Services, clinician: dict[str, str], patient: str
) -> None:
    """A 3 MiB photo is accepted although bodies elsewhere are capped at 1 MiB."""
    assert services.settings.max_body_bytes < 3 * 1_048_576 < services.settings.max_photo_bytes
    noisy = noise_png(1024, 1024)
    assert len(noisy) > 3 * 1_048_576
    created = upload_photo(client, clinician, patient, noisy)
    assert created["byte_size"] > services.settings.max_body_bytes
    form = {"clinic_id": "x", "family_name": "A" * (2 * 1_048_576), "given_name": "B"}
    refused = client.post("/api/v1/patients", json=form, headers=clinician)
    assert refused.status_code == 413


def test_a_receptionist_is_refused_photos_with_403_and_the_refusal_is_audited(
    client: TestClient, clinics: TwoClinics, clinician: dict[str, str], patient: str
) -> None:
    """Reception may neither upload, list, read, view nor compare photos."""
    photo = upload_photo(client, clinician, patient)["id"]
    reception = bearer(client, clinics.a.users[Role.RECEPTION])
    for response in (
        post_photo(client, reception, patient),
        client.get(f"/api/v1/patients/{patient}/photos", headers=reception),
        client.get(f"/api/v1/photos/{photo}", headers=reception),
        client.get(f"/api/v1/photos/{photo}/content", headers=reception),
        client.get(
            "/api/v1/photo-comparisons", params={"first": photo, "second": photo}, headers=reception
        ),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
        assert not response.headers["content-type"].startswith("image/")
    views = _audit(client, clinics, "photo.view")
    denied = [e for e in views if e["actor_id"] == clinics.a.users[Role.RECEPTION].id]
    assert [e["outcome"] for e in denied] == ["denied"]


def test_every_view_of_a_photo_writes_its_own_audit_entry(
    client: TestClient, clinics: TwoClinics, clinician: dict[str, str], patient: str
) -> None:
    """Three requests for the image: three 'photo.view' entries naming the photo."""
    photo = upload_photo(client, clinician, patient)["id"]
    for _ in range(3):
        assert client.get(f"/api/v1/photos/{photo}/content", headers=clinician).status_code == 200
    views = [e for e in _audit(client, clinics, "photo.view") if e["entity_id"] == photo]
    assert len(views) == 3
    assert {(e["outcome"], e["patient_id"], e["action"]) for e in views} == {
        ("success", patient, "R")
    }


def test_two_dates_of_one_view_are_compared_side_by_side(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """By view and dates, or by ids: the earlier first; other views and dates are not mixed."""
    before = upload_photo(client, clinician, patient, jpeg(colour=(10, 10, 10)),
                          taken_on="2026-08-01")  # fmt: skip
    after = upload_photo(client, clinician, patient, jpeg(colour=(90, 90, 90)))
    upload_photo(client, clinician, patient, view="front_hairline")
    by_dates = ok(
        client.get(
            f"/api/v1/patients/{patient}/photo-comparison",
            params={"view": "vertex", "first_on": "2026-11-20", "second_on": "2026-08-01"},
            headers=clinician,
        )
    )
    assert (by_dates["first"]["id"], by_dates["second"]["id"]) == (before["id"], after["id"])
    by_ids = ok(
        client.get(
            "/api/v1/photo-comparisons",
            params={"first": after["id"], "second": before["id"]},
            headers=clinician,
        )
    )
    assert by_ids == by_dates
    missing = client.get(
        f"/api/v1/patients/{patient}/photo-comparison",
        params={"view": "left_temporal", "first_on": "2026-11-20", "second_on": "2026-08-01"},
        headers=clinician,
    )
    assert missing.status_code == 404


def test_a_correction_is_a_new_photo_and_the_original_stays(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """Relabelled without a new image: same bytes, new id; the original is marked replaced."""
    original = upload_photo(client, clinician, patient, view="left_temporal")
    fixed = client.post(
        f"/api/v1/photos/{original['id']}/corrections",
        data=photo_form(view="right_temporal"),
        headers=clinician,
    )
    corrected = ok(fixed, 201)
    assert corrected["replaces_id"] == original["id"]
    assert corrected["sha256"] == original["sha256"]
    assert corrected["view"] == "right_temporal"
    again = ok(client.get(f"/api/v1/photos/{original['id']}", headers=clinician))
    assert again == original | {"replaced": True}
    listed = ok(client.get(f"/api/v1/patients/{patient}/photos", headers=clinician))["items"]
    assert {(p["id"], p["replaced"]) for p in listed} == {
        (original["id"], True),
        (corrected["id"], False),
    }
    twice = client.post(
        f"/api/v1/photos/{original['id']}/corrections", data=photo_form(), headers=clinician
    )
    assert twice.status_code == 409


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"view": "crown"}, "'view'"),
        ({"taken_on": "20/11/2026"}, "'taken_on'"),
        ({"taken_on": "2026-12-25"}, "'taken_on'"),
        ({"surprise": "x"}, "'surprise'"),
    ],
)
def test_bad_details_are_refused_with_422_naming_the_field(
    client: TestClient,
    clinician: dict[str, str],
    patient: str,
    fields: dict[str, str],
    field: str,
) -> None:
    """An unknown view, a malformed or future date, an unknown field."""
    response = client.post(
        f"/api/v1/patients/{patient}/photos",
        data=photo_form() | fields,
        files={"photo": ("a.jpg", jpeg(), "image/jpeg")},
        headers=clinician,
    )
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]


def test_a_missing_image_is_refused_with_422(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """The form without its 'photo' part."""
    response = client.post(
        f"/api/v1/patients/{patient}/photos", data=photo_form(), headers=clinician
    )
    assert response.status_code == 422
    assert "'photo'" in response.json()["detail"]


def test_an_upload_streamed_past_the_cap_without_a_length_is_refused_with_413(
    client: TestClient, services: Services, clinician: dict[str, str], patient: str
) -> None:
    """Chunked, with no Content-Length: counted as it arrives and refused past the cap."""
    boundary = "photo-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="view"\r\n\r\nvertex\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="taken_on"\r\n\r\n2026-11-20\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    size = services.settings.max_photo_bytes + 200_000

    def chunks() -> Iterator[bytes]:
        yield head + b"\xff\xd8\xff"
        for _ in range(size // 65_536 + 1):
            yield b"\x00" * 65_536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        f"/api/v1/patients/{patient}/photos",
        content=chunks(),
        headers=clinician | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    listed = ok(client.get(f"/api/v1/patients/{patient}/photos", headers=clinician))
    assert listed["total"] == 0
