"""Clinical photos in Chromium: upload two vertex photos on two dates through the form, then
compare them side by side; both pictures really render."""

from __future__ import annotations

from typing import Any

import pytest

from mesoscreen.domain.access import Role
from tests.e2e.browser.conftest import sign_in
from tests.images import jpeg, png

pytestmark = pytest.mark.browser


def _upload(page: Any, name: str, data: bytes, mime: str, view: str, day: str) -> None:
    page.get_by_label("Photo file (JPEG or PNG)").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    page.get_by_label("View", exact=True).select_option(label=view)
    page.get_by_label("Date taken").fill(day)
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("heading", name="Upload a photo").wait_for()


def _rendered(image: Any) -> bool:
    """Whether the browser decoded and laid out the picture (a broken image has width 0)."""
    return bool(image.evaluate("i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0"))


def test_two_dates_of_the_vertex_are_compared_side_by_side(page: Any, server: Any) -> None:
    """A nurse uploads a JPEG in August and a PNG in November from the patient's page; the
    comparison shows both, the earlier on the left, with their dates and who took them."""
    base, staff = server
    sign_in(page, base, staff, Role.NURSE)
    page.get_by_role("navigation").get_by_role("link", name="New patient").click()
    page.get_by_label("Family name").fill("Vo")
    page.get_by_label("Given name").fill("Photo")
    page.get_by_label("Date of birth").fill("1985-02-03")
    page.get_by_label("Male", exact=True).check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Vo Photo").wait_for()
    page.get_by_role("link", name="Photos").click()
    page.get_by_role("heading", name="Upload a photo").wait_for()

    _upload(page, "august.jpg", jpeg(320, 240, gps=True, colour=(20, 20, 20)), "image/jpeg",
            "Vertex (crown)", "2026-08-03")  # fmt: skip
    _upload(page, "november.png", png(320, 240, colour=(150, 90, 40)), "image/png",
            "Vertex (crown)", "2026-11-24")  # fmt: skip
    thumbnails = page.locator('[data-view="vertex"] img')
    assert thumbnails.count() == 2
    for index in range(2):
        thumbnails.nth(index).scroll_into_view_if_needed()
        page.wait_for_function(
            "i => i.complete && i.naturalWidth > 0", arg=thumbnails.nth(index).element_handle()
        )

    page.get_by_label("First date").select_option(label="24 Nov 2026")
    page.get_by_label("Second date").select_option(label="3 Aug 2026")
    page.get_by_role("button", name="Compare").click()
    page.get_by_role("heading", name="Comparison: Vertex (crown)").wait_for()

    figures = page.locator("#comparison figure")
    assert figures.count() == 2
    left, right = figures.nth(0), figures.nth(1)
    assert left.locator(".taken-on").inner_text() == "3 Aug 2026"
    assert right.locator(".taken-on").inner_text() == "24 Nov 2026"
    nurse = staff.users[Role.NURSE].username
    assert left.locator(".taken-by").inner_text() == nurse
    assert right.locator(".taken-by").inner_text() == nurse
    for figure in (left, right):
        image = figure.locator("img")
        image.wait_for()
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle())
        assert _rendered(image)
        assert image.evaluate("i => i.naturalWidth") == 320
    # Side by side: the earlier picture's box lies left of the later one, on the same row.
    left_box = left.locator("img").bounding_box()
    right_box = right.locator("img").bounding_box()
    assert left_box["x"] + left_box["width"] <= right_box["x"]
    assert abs(left_box["y"] - right_box["y"]) < 5
    # The August JPEG is dark, the November PNG brown: the pictures are not swapped.
    left_red = left.locator("img").evaluate(
        "i => { const c = document.createElement('canvas'); c.width = i.naturalWidth;"
        " c.height = i.naturalHeight; const x = c.getContext('2d'); x.drawImage(i, 0, 0);"
        " return x.getImageData(5, 5, 1, 1).data[0]; }"
    )
    right_red = right.locator("img").evaluate(
        "i => { const c = document.createElement('canvas'); c.width = i.naturalWidth;"
        " c.height = i.naturalHeight; const x = c.getContext('2d'); x.drawImage(i, 0, 0);"
        " return x.getImageData(5, 5, 1, 1).data[0]; }"
    )
    assert left_red < 60 < 120 < right_red
