"""Photo pages: upload through the form, the gallery, a photo and its correction, two dates side
by side; reception refused; every image shown is audited and never cached."""

from __future__ import annotations

import re

from sqlalchemy import text

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from tests.factories import ClinicStaff
from tests.images import PATIENT_TEXT, gif, jpeg, opened
from tests.integration.web.conftest import TestClient, new_patient, sign_in


def _upload(
    client: TestClient,
    csrf: str,
    patient: str,
    data: bytes,
    *,
    view: str = "vertex",
    taken_on: str = "2026-11-20",
    **extra: str,
) -> object:
    return client.post(
        f"/patients/{patient}/photos",
        data={"csrf": csrf, "view": view, "taken_on": taken_on, **extra},
        files={"photo": ("scalp.jpg", data, "image/jpeg")},
        follow_redirects=False,
    )


def _views(services: Services, staff: ClinicStaff, photo_id: str) -> list[str]:
    """The outcomes of the 'photo.view' audit entries of ``photo_id``."""
    with services.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT outcome FROM audit_log WHERE event_type = 'photo.view' "
                 "AND entity_id = :id ORDER BY seq"),
            {"id": photo_id},
        )  # fmt: skip
        return [str(row[0]) for row in rows]


def test_a_nurse_uploads_through_the_form_and_the_gallery_shows_it_by_view(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """The form posts multipart with the CSRF token; the clean photo is listed under its view
    with its date, session (baseline) and taker, and the image route serves it."""
    csrf = sign_in(browser, staff, Role.NURSE)
    patient = new_patient(browser, csrf)
    patient_page = browser.get(f"/patients/{patient}").text
    assert f'href="/patients/{patient}/photos"' in patient_page
    response = _upload(browser, csrf, patient, jpeg(gps=True), note="before the first session")
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    gallery = browser.get(f"/patients/{patient}/photos")
    assert gallery.status_code == 200
    assert gallery.headers["cache-control"] == "no-store"
    listed = gallery.text.split('id="patient-header"')[1].split("</section>", 1)[1]
    (photo_id,) = re.findall(r'src="/photos/([0-9a-f-]+)/image"', listed)  # below the header
    section = gallery.text.split('data-view="vertex"')[1].split("</section>")[0]
    assert photo_id in section
    assert "20 Nov 2026" in section
    assert "Baseline (no session)" in section
    assert staff.users[Role.NURSE].username in section
    image = browser.get(f"/photos/{photo_id}/image")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["cache-control"] == "no-store"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert not opened(image.content).getexif()
    assert PATIENT_TEXT.encode() not in image.content


def test_a_gif_is_refused_on_the_page_naming_the_field(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """415 with the form shown again and the reason; nothing listed."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    response = _upload(browser, csrf, patient, gif())
    assert response.status_code == 415  # type: ignore[attr-defined]
    assert "Photo: choose a JPEG or PNG picture." in response.text  # type: ignore[attr-defined]
    assert "/image" not in response.text  # type: ignore[attr-defined]


def test_an_upload_without_the_csrf_token_is_refused(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """A forged multipart post stores nothing."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    response = _upload(browser, "forged", patient, jpeg())
    assert response.status_code == 403  # type: ignore[attr-defined]
    clinician = staff.principal(Role.CLINICIAN)
    assert services.photos.history(clinician, patient) == []


def test_reception_sees_no_photos_link_and_is_refused_every_photo_page(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Gallery, photo, image and comparison are 403 for reception; the image refusal is
    audited as a denied view."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    _upload(browser, csrf, patient, jpeg())
    photo_id = services.photos.history(staff.principal(Role.CLINICIAN), patient)[0].id
    browser.post("/signout", data={"csrf": csrf})
    reception_csrf = sign_in(browser, staff, Role.RECEPTION)
    assert f"/patients/{patient}/photos" not in browser.get(f"/patients/{patient}").text
    for path in (
        f"/patients/{patient}/photos",
        f"/photos/{photo_id}",
        f"/photos/{photo_id}/image",
        f"/patients/{patient}/photos/compare?view=vertex&first=2026-11-20&second=2026-11-20",
    ):
        response = browser.get(path)
        assert response.status_code == 403, path
        assert not response.headers["content-type"].startswith("image/")
    refused = _upload(browser, reception_csrf, patient, jpeg())
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert _views(services, staff, photo_id) == ["denied"]


def test_every_image_shown_is_audited_and_the_comparison_puts_two_dates_side_by_side(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Two vertex photos on two dates: the comparison page shows both, earlier first, with
    dates and takers; each image request is one audited view."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    _upload(browser, csrf, patient, jpeg(colour=(20, 20, 20)), taken_on="2026-08-03")
    _upload(browser, csrf, patient, jpeg(colour=(120, 60, 20)), taken_on="2026-11-24")
    gallery = browser.get(f"/patients/{patient}/photos").text
    assert 'name="first"' in gallery
    page = browser.get(
        f"/patients/{patient}/photos/compare",
        params={"view": "vertex", "first": "2026-11-24", "second": "2026-08-03"},
    )
    assert page.status_code == 200, page.text
    pair = page.text.split('id="comparison"')[1]
    first, second = re.findall(r'data-photo="([0-9a-f-]+)"', pair)
    assert pair.index("3 Aug 2026") < pair.index("24 Nov 2026")
    for photo_id in (first, second, first):
        assert browser.get(f"/photos/{photo_id}/image").status_code == 200
    assert _views(services, staff, first) == ["success", "success"]
    assert _views(services, staff, second) == ["success"]


def test_a_correction_through_the_page_keeps_the_original(
    browser: TestClient, staff: ClinicStaff, services: Services
) -> None:
    """Relabelled without a new file: a new photo replaces the old, which stays readable."""
    csrf = sign_in(browser, staff, Role.NURSE)
    patient = new_patient(browser, csrf)
    _upload(browser, csrf, patient, jpeg(), view="left_temporal")
    original = services.photos.history(staff.principal(Role.NURSE), patient)[0]
    response = browser.post(
        f"/photos/{original.id}/corrections",
        data={"csrf": csrf, "view": "right_temporal", "taken_on": "2026-11-20", "note": "side"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    fixed_page = browser.get(response.headers["location"]).text
    assert "Corrects an earlier photo" in fixed_page
    old_page = browser.get(f"/photos/{original.id}").text
    assert "Replaced by a correction" in old_page
    gallery = browser.get(f"/patients/{patient}/photos").text
    assert original.id not in gallery


def test_comparing_a_date_without_a_photo_of_the_view_says_which(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """404 with the gallery and the reason, naming the date that has no photo."""
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    patient = new_patient(browser, csrf)
    _upload(browser, csrf, patient, jpeg(), taken_on="2026-11-20")
    _upload(browser, csrf, patient, jpeg(), view="front_hairline", taken_on="2026-10-01")
    page = browser.get(
        f"/patients/{patient}/photos/compare",
        params={"view": "vertex", "first": "2026-10-01", "second": "2026-11-20"},
    )
    assert page.status_code == 404
    assert "First date: there is no photo of the Vertex (crown) taken on 1 Oct 2026." in page.text
    assert 'id="upload-title"' in page.text


def test_the_upload_limit_reads_in_megabytes_in_each_language(
    browser: TestClient, staff: ClinicStaff
) -> None:
    """The form's hint says 10 MB (Vietnamese: "Tối đa 10 MB"), never MiB."""
    csrf = sign_in(browser, staff, Role.NURSE)
    patient = new_patient(browser, csrf)
    english = browser.get(f"/patients/{patient}/photos").text
    assert "At most 10 MB." in english
    vietnamese = browser.get(f"/patients/{patient}/photos", headers={"Accept-Language": "vi"})
    assert "Tối đa 10 MB." in vietnamese.text
    assert "MiB" not in english + vietnamese.text
