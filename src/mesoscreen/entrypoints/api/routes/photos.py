"""Clinical photos: upload (multipart/form-data), list, details, the image itself, compare.

An upload's image is decoded and cleaned in a bounded worker thread (``HeavyWork``) before
its transaction opens, and the transaction runs in Starlette's pool, so neither holds the
event loop. Only roles that read clinical data see photos; each request for an image is
audited as one view, and the image is sent with ``Cache-Control: no-store`` so no browser
or proxy keeps it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from mesoscreen.domain.records import Photo, PhotoView
from mesoscreen.entrypoints.api.deps import HeavyWorkDep, PrincipalDep, ServicesDep, set_etag
from mesoscreen.entrypoints.api.paging import DEFAULT_PAGE_SIZE, Limit, Offset
from mesoscreen.entrypoints.api.photo_schemas import (
    IMAGE_RESPONSE,
    PhotoComparisonOut,
    PhotoOut,
    upload_form,
)
from mesoscreen.entrypoints.api.schemas import PageOut
from mesoscreen.entrypoints.photo_http import API_FIELDS, image_response, photo_details, read_upload
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.photos import PhotoComparison

router = PrefixRouter(prefix="/api/v1", tags=["photos"])


def _out(photo: Photo, response: Response | None = None, replaced: bool = False) -> PhotoOut:
    if response is not None:
        set_etag(response, photo.version)
    return PhotoOut.of(photo, replaced=replaced)


def _comparison(compared: PhotoComparison) -> PhotoComparisonOut:
    return PhotoComparisonOut(
        view=compared.view, first=_out(compared.first), second=_out(compared.second)
    )


@router.post(
    "/patients/{patient_id}/photos",
    response_model=PhotoOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=upload_form(required=True),
)
async def upload_photo(
    patient_id: str,
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    heavy_work: HeavyWorkDep,
    response: Response,
) -> PhotoOut:
    """Upload a photo (multipart/form-data: the image as 'photo', JPEG or PNG; 'view',
    'taken_on', optional 'session_id', 'taken_by' and 'note'). Refused with 415 for another
    type, 413 past the size limit, 422 past the pixel limit or for bad details."""
    upload = await read_upload(request, API_FIELDS)
    details = photo_details(upload.fields)
    prepared = await heavy_work.run(
        services.photos.prepare, principal, upload.data, upload.declared_type,
        patient_id=patient_id,
    )  # fmt: skip
    photo = await run_in_threadpool(services.photos.add, principal, patient_id, details, prepared)
    response.headers["Location"] = f"/api/v1/photos/{photo.id}"
    return _out(photo, response)


@router.get("/patients/{patient_id}/photos", response_model=PageOut[PhotoOut])
def list_photos(
    patient_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> PageOut[PhotoOut]:
    """The patient's photos (details only), oldest first."""
    page, replaced = services.photos.list_for_patient(principal, patient_id, offset, limit)
    return PageOut[PhotoOut].of(page, lambda p: _out(p, replaced=p.id in replaced))


@router.get("/patients/{patient_id}/photo-comparison", response_model=PhotoComparisonOut)
def compare_dates(
    patient_id: str,
    view: PhotoView,
    first_on: date,
    second_on: date,
    principal: PrincipalDep,
    services: ServicesDep,
) -> PhotoComparisonOut:
    """The patient's photos of one view taken on two dates (the latest of each date), the
    earlier first."""
    compared = services.photos.compare_dates(principal, patient_id, view.value, first_on, second_on)
    return _comparison(compared)


@router.get("/photo-comparisons", response_model=PhotoComparisonOut)
def compare_photos(
    first: Annotated[str, Query(min_length=1, max_length=36)],
    second: Annotated[str, Query(min_length=1, max_length=36)],
    principal: PrincipalDep,
    services: ServicesDep,
) -> PhotoComparisonOut:
    """Two photos of the same patient and view, by id, the earlier first."""
    return _comparison(services.photos.compare(principal, first, second))


@router.get("/photos/{photo_id}", response_model=PhotoOut)
def get_photo(
    photo_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> PhotoOut:
    """One photo's details, and whether a correction replaced it."""
    photo, replaced = services.photos.get(principal, photo_id)
    return _out(photo, response, replaced)


@router.get(
    "/photos/{photo_id}/content",
    response_class=Response,
    responses=IMAGE_RESPONSE,
)
def get_photo_content(photo_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    """The photo itself (each request is audited as one view)."""
    photo, data = services.photos.content(principal, photo_id)
    return image_response(photo, data)


@router.post(
    "/photos/{photo_id}/corrections",
    response_model=PhotoOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=upload_form(required=False),
)
async def correct_photo(
    photo_id: str,
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    heavy_work: HeavyWorkDep,
    response: Response,
) -> PhotoOut:
    """A new photo replacing this one (new details, and a new image or the same one); the
    original is kept and marked replaced."""
    upload = await read_upload(request, API_FIELDS)
    details = photo_details(upload.fields)
    prepared = await heavy_work.run(
        services.photos.prepare, principal, upload.data, upload.declared_type,
        replacing=photo_id,
    )  # fmt: skip
    photo = await run_in_threadpool(services.photos.replace, principal, photo_id, details, prepared)
    response.headers["Location"] = f"/api/v1/photos/{photo.id}"
    return _out(photo, response)
