"""The saved plan's injection map in Vietnamese, in Chromium: a head, the screening named,
words and numbers in Vietnamese, numbers legible when printed, the clinic's letterhead."""

from __future__ import annotations

from typing import Any

import pytest

from mesoscreen.domain.access import Role
from tests.e2e.browser.conftest import SCREENSHOTS, sign_in
from tests.e2e.browser.test_clinic_visit import _add_patient, _answer_all_no

pytestmark = pytest.mark.browser

CSS_PX_PER_PT = 96 / 72


def test_the_saved_plans_map_reads_in_vietnamese_and_prints_legibly(page: Any, server: Any) -> None:
    """Plan made in Vietnamese from a signed screening: the saved plan's map names it."""
    base, staff = server
    sign_in(page, base, staff, Role.CLINICIAN)
    _add_patient(page, "Vo", "male")
    page.get_by_role("link", name="Pre-treatment questions").click()
    _answer_all_no(page)
    page.get_by_role("button", name="Screen").click()
    page.get_by_role("button", name="Sign this screening").click()
    page.get_by_role("link", name="Plan treatment").click()
    page.wait_for_load_state("load")
    page.get_by_label("Language").select_option("vi")
    page.wait_for_selector("html[lang=vi]", state="attached")
    page.get_by_label("Giai đoạn rụng tóc").select_option("norwood-1")
    page.get_by_label("Buổi đầu tiên").fill("2026-12-01")
    page.get_by_role("button", name="Xem trước").click()
    page.locator(".map svg").wait_for()
    page.get_by_role("button", name="Lưu kế hoạch").click()
    page.locator("#plan-status").wait_for()
    svg = page.locator(".map svg")
    svg.wait_for()
    screening = svg.locator("#screening").text_content()
    assert screening.startswith("Đã đối chiếu với lần sàng lọc ngày 25 thg 11, 2026")
    assert "Chưa đối chiếu" not in svg.text_content()
    for part in ("#head-outline", "#nose", "#ear-left", "#ear-right"):
        assert svg.locator(part).count() == 1, part
    legend = " ".join(svg.locator("#legend text").all_text_contents())
    assert "Vùng trán" in legend
    assert "Khoảng cách: 1 cm" in legend
    assert "Giai đoạn: Norwood-Hamilton I" in legend
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "plan-map-vi.png"), full_page=True)

    page.emulate_media(media="print")
    assert not page.locator("header").is_visible()
    assert staff.clinic.name in page.locator("#letterhead").inner_text()
    numbers = svg.locator("#points text")
    assert numbers.count() > 5
    smallest = min(numbers.nth(i).bounding_box()["height"] for i in range(numbers.count()))
    # A text box is about 1.15 em high; 7 pt type gives a box of at least ~9.3 CSS px.
    assert smallest >= 7 * CSS_PX_PER_PT, smallest
    page.emulate_media(media="screen")
