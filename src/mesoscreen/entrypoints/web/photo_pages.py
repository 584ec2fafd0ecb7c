"""Photo pages: a patient's gallery by view and date with the upload form, one photo with its
correction form, two dates of one view side by side, and the image itself.

Every image is loaded from ``/photos/{id}/image``, which the photo service audits as one view
each time and which is never cached. Uploads are plain multipart forms with the session's
CSRF token, so the pages work without scripts; the image is decoded under the heavy-work bound
(``HeavyWork.call``) from the page's worker thread, before its transaction opens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mesoscreen.domain.errors import (
    InputError,
    NotFoundError,
    TooLargeError,
    UnsupportedMediaError,
)
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import Photo, PhotoView
from mesoscreen.entrypoints.photo_http import (
    PAGE_FIELDS,
    Upload,
    image_response,
    photo_details,
    read_upload,
)
from mesoscreen.entrypoints.web.kit import Form, PageKit
from mesoscreen.services.authentication import Authenticated
from mesoscreen.services.recording import FormKey

VIEWS = [view.value for view in PhotoView]


def _status(refused: InputError) -> int:
    """The page status of a refused upload."""
    if isinstance(refused, UnsupportedMediaError):
        return 415
    return 413 if isinstance(refused, TooLargeError) else 400


def _day(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise InputError(
            f"'{field}': expected a date as YYYY-MM-DD (got '{(value or '')[:30]}')",
            problems=problem(Reason.NOT_A_DATE, field),
        ) from None


def current(photos: Iterable[Photo]) -> list[Photo]:
    """The photos no correction replaced."""
    listed = list(photos)
    replaced = {p.replaces_id for p in listed if p.replaces_id}
    return [p for p in listed if p.id not in replaced]


def add_photo_pages(router: APIRouter, kit: PageKit) -> None:
    """Register the gallery, upload, photo, correction, comparison and image routes."""
    services = kit.services
    # In the MB people read on their devices (2^20 bytes): the default limit reads 10 MB.
    max_mb = services.settings.max_photo_bytes / 1_048_576

    def sessions_of(a: Authenticated, patient_id: str) -> dict[str, Any]:
        listed = services.treatment_sessions.list_for_patient(a.principal, patient_id, limit=200)
        return {s.id: s for s in reversed(listed.items)}

    def gallery(request: Request, a: Authenticated, patient_id: str, form: Form | None = None,
                status: int = 200, error: str | None = None) -> Response:  # fmt: skip
        patient = services.patients.get(a.principal, patient_id)
        photos = services.photos.history(a.principal, patient_id)
        shown = sorted(current(photos), key=lambda p: (p.taken_on, p.created_at), reverse=True)
        by_view = {view: [p for p in shown if p.view == view] for view in VIEWS}
        dates = sorted({p.taken_on for p in shown}, reverse=True)
        names = services.photos.staff_names(a.principal, (p.taken_by for p in shown))
        return kit.render(request, "photos.html", a, status, patient=patient, by_view=by_view,
                          views=VIEWS, dates=dates, sessions=sessions_of(a, patient_id),
                          names=names,
                          form=form or {"taken_on": services.clock.today().isoformat()},
                          error=error, max_mb=max_mb)  # fmt: skip

    @router.get("/patients/{patient_id}/photos", response_model=None)
    def photo_gallery(request: Request, patient_id: str) -> Response:
        return kit.page(request, lambda a: gallery(request, a, patient_id))

    async def posted(request: Request, page: Callable[[Authenticated, Form, Upload], Response],
                     on_refusal: Callable[[Authenticated, Form, InputError], Response],
                     ) -> Response:  # fmt: skip
        """Run an upload page: the form is read (and closed) before the session's checks."""
        try:
            upload: Upload | InputError = await read_upload(request, PAGE_FIELDS)
        except InputError as refused:
            upload = refused

        def run(a: Authenticated, form: Form) -> Response:
            if isinstance(upload, InputError):
                return on_refusal(a, form, upload)
            try:
                return page(a, form, upload)
            except InputError as refused:
                return on_refusal(a, form, refused)

        return await kit.form_page(request, run)

    @router.post("/patients/{patient_id}/photos", response_model=None)
    async def photo_upload(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated, form: Form, upload: Upload) -> Response:
            details = photo_details(upload.fields)
            prepared = kit.heavy_work.call(services.photos.prepare, a.principal, upload.data,
                                           upload.declared_type, patient_id=patient_id)  # fmt: skip

            def create(key: FormKey | None) -> str:
                return services.photos.add(a.principal, patient_id, details, prepared, key).id

            return kit.created_once(a, form, "photo", create,
                                    lambda _: f"/patients/{patient_id}/photos")  # fmt: skip

        def refused(a: Authenticated, form: Form, error: InputError) -> Response:
            return gallery(request, a, patient_id, form, _status(error), kit.say(request, a, error))

        return await posted(request, page, refused)

    def photo_page(request: Request, a: Authenticated, photo_id: str, form: Form | None = None,
                   status: int = 200, error: str | None = None) -> Response:  # fmt: skip
        photo, replaced = services.photos.get(a.principal, photo_id)
        patient = services.patients.get(a.principal, photo.patient_id)
        return kit.render(request, "photo.html", a, status, photo=photo, replaced=replaced,
                          patient=patient, views=VIEWS, sessions=sessions_of(a, patient.id),
                          names=services.photos.staff_names(a.principal, [photo.taken_by]),
                          form=form or {"view": photo.view, "taken_on": photo.taken_on.isoformat(),
                                        "session_id": photo.session_id or "",
                                        "note": photo.note or ""},
                          error=error, max_mb=max_mb)  # fmt: skip

    @router.get("/photos/{photo_id}", response_model=None)
    def photo_detail(request: Request, photo_id: str) -> Response:
        return kit.page(request, lambda a: photo_page(request, a, photo_id))

    @router.post("/photos/{photo_id}/corrections", response_model=None)
    async def photo_correction(request: Request, photo_id: str) -> Response:
        def page(a: Authenticated, form: Form, upload: Upload) -> Response:
            details = photo_details(upload.fields)
            prepared = kit.heavy_work.call(services.photos.prepare, a.principal, upload.data,
                                           upload.declared_type, replacing=photo_id)  # fmt: skip

            def create(key: FormKey | None) -> str:
                return services.photos.replace(a.principal, photo_id, details, prepared, key).id

            return kit.created_once(a, form, "photo_correction", create,
                                    lambda made: f"/photos/{made}")  # fmt: skip

        def refused(a: Authenticated, form: Form, error: InputError) -> Response:
            return photo_page(
                request, a, photo_id, form, _status(error), kit.say(request, a, error)
            )

        return await posted(request, page, refused)

    @router.get("/photos/{photo_id}/image", response_model=None)
    def photo_image(request: Request, photo_id: str) -> Response:
        def page(a: Authenticated) -> Response:
            photo, data = services.photos.content(a.principal, photo_id)
            return image_response(photo, data)

        return kit.page(request, page)

    @router.get("/patients/{patient_id}/photos/compare", response_model=None)
    def photo_compare(request: Request, patient_id: str, view: str = "", first: str = "",
                      second: str = "") -> Response:  # fmt: skip
        def page(a: Authenticated) -> Response:
            patient = services.patients.get(a.principal, patient_id)
            try:
                compared = services.photos.compare_dates(
                    a.principal, patient_id, view, _day(first, "first"), _day(second, "second")
                )
            except NotFoundError as missing:  # the patient is visible: a date has no photo
                return gallery(
                    request, a, patient_id, status=404, error=kit.say(request, a, missing)
                )
            pair = [compared.first, compared.second]
            return kit.render(request, "photo_compare.html", a, patient=patient,
                              compared=compared, pair=pair,
                              sessions=sessions_of(a, patient_id),
                              names=services.photos.staff_names(
                                  a.principal, (p.taken_by for p in pair)))  # fmt: skip

        return kit.page(request, page)
