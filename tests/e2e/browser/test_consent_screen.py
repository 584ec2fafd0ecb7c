"""The screen a patient signs: radios and the checkbox sit beside their words, in English and
Vietnamese, on a desktop and on a tablet; the Clear button says Clear."""

from __future__ import annotations

from typing import Any

import pytest

from mesoscreen.domain.access import Role
from tests.e2e.browser.conftest import sign_in
from tests.e2e.browser.records import signed_screening
from tests.page_checks import python_reprs

pytestmark = pytest.mark.browser

CLEAR = {"en": "Clear", "vi": "Xóa"}


def _choose_language(page: Any, base: str, language: str) -> None:
    page.goto(f"{base}/patients")
    if page.locator("#language").input_value() != language:
        with page.expect_navigation():
            page.locator("#language").select_option(language)


@pytest.mark.parametrize("width", [1280, 820])
@pytest.mark.parametrize("language", ["en", "vi"])
def test_each_radio_and_the_checkbox_sit_beside_their_label(
    page: Any, server: Any, language: str, width: int
) -> None:
    """Each box is left of its label, on the same line, a few pixels away, and no bigger than
    the text; the Clear button reads as a word."""
    base, staff = server
    page.set_viewport_size({"width": width, "height": 1000})
    sign_in(page, base, staff, Role.CLINICIAN)
    _, screening = signed_screening(page, base, family=f"Le{language}{width}")
    _choose_language(page, base, language)
    page.goto(f"{base}/screenings/{screening}/consent")
    page.wait_for_load_state("load")
    assert python_reprs(page.content()) == []
    assert page.locator("#signature-clear").inner_text().strip() == CLEAR[language]
    for box_id in ("method-typed", "method-drawn", "confirmed"):
        box = page.locator(f"#{box_id}").bounding_box()
        label = page.locator(f"label[for='{box_id}']").bounding_box()
        assert box is not None
        assert label is not None
        assert max(box["width"], box["height"]) <= 32, (box_id, box)
        gap = label["x"] - (box["x"] + box["width"])
        assert 0 <= gap <= 24, (box_id, box, label)
        box_middle = box["y"] + box["height"] / 2
        assert label["y"] <= box_middle <= label["y"] + label["height"], (box_id, box, label)
