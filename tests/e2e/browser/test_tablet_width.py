"""At a tablet's 820 px, in English and Vietnamese, no page scrolls sideways and no element
is wider than the screen: the timeline's columns, a signed consent's long hashes and the
audit table all fit."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mesoscreen.domain.access import Role
from tests.e2e.browser.conftest import sign_in
from tests.e2e.browser.records import csrf_of, post, signed_screening
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

TABLET = {"width": 820, "height": 1180}
_VERSION = re.compile(r'name="version" value="([^"]*)"')
_ENABLED_PRODUCT = re.compile(r'<option value="([^"]+)" (?:selected)?>')

# Elements wider than the viewport, or reaching past its right edge, and whether the page
# itself scrolls sideways (what a reader at 820 px would have to scroll to see).
_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  if (document.documentElement.scrollWidth > width) {
    found.push(`page scrolls: ${document.documentElement.scrollWidth} > ${width}`);
  }
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) { continue; }
    if (box.width > width + 1 || box.right > width + 1) {
      const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
        (element.className && typeof element.className === "string"
          ? "." + element.className.trim().split(/\\s+/).join(".") : "");
      found.push(`${name}: ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  return found.slice(0, 8);
}"""


# Text directly in a timeline entry: the grid makes it a cell of its own, which then falls
# into the date column of the next row ("· signed", "grade 1 · Ongoing").
_LOOSE_TEXT = """() => Array.from(document.querySelectorAll("#timeline .entry")).flatMap(
  entry => Array.from(entry.childNodes)
    .filter(node => node.nodeType === Node.TEXT_NODE && node.textContent.trim())
    .map(node => node.textContent.trim()))"""


def _version(page: Any, base: str, path: str) -> str:
    found = _VERSION.search(page.request.get(f"{base}{path}").text())
    assert found, path
    return found.group(1)


def _clinical_record(page: Any, base: str) -> dict[str, str]:
    """A patient with a signed screening, a signed plan, a countersigned consent, a session
    and an adverse event: every part of the timeline and every clinical page has content."""
    patient, screening = signed_screening(page, base, family="Nguyễn Thị Thanh")
    csrf = csrf_of(page, base)
    editor = page.request.get(f"{base}/screenings/{screening}/plan").text()
    product = _ENABLED_PRODUCT.search(editor.split('name="product">')[1])
    assert product
    plan_form = {"csrf": csrf, "stage": "norwood-3", "spacing_cm": "1.0",
                 "product": product.group(1), "start": "2026-12-01", "save": "1"}  # fmt: skip
    plan = post(page, base, f"/screenings/{screening}/plan", plan_form)
    post(page, base, f"{plan}/sign", {"csrf": csrf, "version": _version(page, base, plan)})
    consent = post(page, base, f"/screenings/{screening}/consent", {
        "csrf": csrf, "doc_lang": "vi", "template_version": "1", "signature_method": "typed",
        "typed_name": "Nguyễn Thị Thanh Minh", "confirmed": "yes"})  # fmt: skip
    post(page, base, f"{consent}/countersign",
         {"csrf": csrf, "version": _version(page, base, consent)})  # fmt: skip
    plan_id = plan.rsplit("/", 1)[1]
    post(page, base, f"/patients/{patient}/sessions/new", {
        "csrf": csrf, "plan_id": plan_id, "performed_at": "2026-11-25T08:30",
        "product": "A product with a long name", "lot_number": "LOT-2026-11-ABCDEFGH",
        "expiry": "2027-06-30", "points": "40", "volume_per_point_ml": "0.05",
        "depth_mm": "1.5"})  # fmt: skip
    post(page, base, f"/patients/{patient}/adverse-events/new", {
        "csrf": csrf, "complication_id": "bruising", "onset_at": "2026-11-25T09:00",
        "severity_grade": "1", "outcome": "recovering"})  # fmt: skip
    return {"patient": patient, "screening": screening, "plan": plan, "consent": consent}


def _pages(record: dict[str, str]) -> list[str]:
    patient, screening = record["patient"], record["screening"]
    return [
        "/today", "/patients", "/patients/new", "/worklist", f"/patients/{patient}",
        f"/screenings/{screening}", f"/screenings/{screening}/handout",
        f"/screenings/{screening}/plan", record["plan"], f"/screenings/{screening}/consent",
        record["consent"], f"/patients/{patient}/sessions/new",
        f"/patients/{patient}/adverse-events/new", f"/patients/{patient}/photos",
        f"/patients/{patient}/outcomes", f"/patients/{patient}/intake",
    ]  # fmt: skip


def _choose_language(page: Any, base: str, language: str) -> None:
    csrf = csrf_of(page, base, "/today")
    page.request.post(f"{base}/language", form={"language": language, "next": "/today",
                      "csrf": csrf}, headers={"Origin": base})  # fmt: skip


def _overflowing(page: Any, base: str, paths: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        response = page.goto(f"{base}{path}")
        assert response is not None
        assert response.status == 200, path
        page.wait_for_load_state("load")
        wide = page.evaluate(_OVERFLOW)
        if wide:
            found[path] = wide
    return found


@pytest.mark.parametrize("language", ["en", "vi"])
def test_no_clinical_page_is_wider_than_a_tablet(chromium: Any, server: Any, language: str) -> None:
    """Every page a clinician opens in a visit fits 820 px, in both languages."""
    base, staff = server
    context = chromium.new_context(viewport=TABLET, timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, base, staff, Role.CLINICIAN)
        record = _clinical_record(page, base)
        _choose_language(page, base, language)
        assert _overflowing(page, base, _pages(record)) == {}
        page.goto(f"{base}/patients/{record['patient']}")
        assert page.locator("#timeline .entry").count() == 4  # screening, plan, session, event
        assert page.evaluate(_LOOSE_TEXT) == []
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_admin_pages_are_not_wider_than_a_tablet(
    chromium: Any, server: Any, language: str
) -> None:
    """The users page and the audit table (many columns, long addresses) fit 820 px."""
    base, staff = server
    context = chromium.new_context(viewport=TABLET, timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{base}/signin")
        page.get_by_label("Username").fill(staff.users[Role.ADMIN].username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")
        _choose_language(page, base, language)
        assert _overflowing(page, base, ["/admin/users", "/admin/audit"]) == {}
    finally:
        context.close()
