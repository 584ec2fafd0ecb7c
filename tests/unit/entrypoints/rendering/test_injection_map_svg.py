"""The injection map SVG: a head a clinician recognises, legible at print size, every point
drawn, the legend in the reader's language and number format, and the screening named."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from mesoscreen.domain.planner.plan import PlannedTreatment, PlanRequest
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.rendering.injection_map_legend import number_runs
from mesoscreen.entrypoints.rendering.injection_map_svg import (
    MIN_FONT,
    PRINT_WIDTH_MM,
    WIDTH,
    CheckedScreening,
    map_scale,
    render_injection_map,
)
from mesoscreen.entrypoints.rendering.map_labels import DIGIT_WIDTH_EM, HEIGHT_EM
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import default_atlas, load_formulary
from mesoscreen.services.planning import PlanningService

NS = {"svg": "http://www.w3.org/2000/svg"}
ATLAS = default_atlas()
PLANNER = PlanningService(ATLAS, load_formulary(kb=default_knowledge_base()))
PLAN = PLANNER.plan(
    PlanRequest(("vertex",), "ludwig-1", 1.0, "dutasteride_0_01", date(2026, 11, 25)), None
)
SCREENING = CheckedScreening(date(2026, 11, 25), "1a2b3c4d")
# 7 pt, the smallest type a printed clinical form should use, in mm.
LEGIBLE_MM = 7 * 25.4 / 72


def _render(
    plan: PlannedTreatment = PLAN,
    language: Language = Language.EN,
    screening: CheckedScreening | None = SCREENING,
) -> str:
    return render_injection_map(plan, ATLAS, language, screening=screening)


def _svg(language: Language = Language.EN, screening: CheckedScreening | None = SCREENING,
         plan: PlannedTreatment = PLAN) -> ET.Element:  # fmt: skip
    return ET.fromstring(_render(plan, language, screening))  # noqa: S314 (own output)


def _text(root: ET.Element, group: str) -> str:
    found = root.find(f".//svg:g[@id='{group}']", NS)
    assert found is not None, group
    return " ".join(found.itertext())


def _font_size(element: ET.Element, parents: dict[ET.Element, ET.Element]) -> float:
    """The font size an element is drawn at: its own, else its nearest ancestor's."""
    node: ET.Element | None = element
    while node is not None:
        if node.get("font-size"):
            return float(node.get("font-size", "0"))
        node = parents.get(node)
    return 16.0  # the SVG default


def test_the_map_is_valid_svg_with_a_title_and_description_for_screen_readers() -> None:
    """role=img, labelled by a title and a description that states the totals."""
    root = _svg()
    assert root.get("role") == "img"
    desc = root.findtext("svg:desc", namespaces=NS)
    assert desc is not None
    assert f"{len(PLAN.points)} injection points" in desc


def test_the_head_is_drawn_from_above_with_its_outline_nose_and_ears() -> None:
    """Outline, nose at the top (the face), an ear on each side, the sides named."""
    root = _svg()
    outline = root.find(".//svg:path[@id='head-outline']", NS)
    nose = root.find(".//svg:path[@id='nose']", NS)
    left = root.find(".//svg:ellipse[@id='ear-left']", NS)
    right = root.find(".//svg:ellipse[@id='ear-right']", NS)
    assert outline is not None
    assert nose is not None
    assert left is not None
    assert right is not None
    outline_y = [float(v) for v in re.findall(r"[-\d.]+,([-\d.]+)", outline.get("d", ""))]
    nose_y = [float(v) for v in re.findall(r"[-\d.]+,([-\d.]+)", nose.get("d", ""))]
    assert min(nose_y) < min(outline_y), "the nose stands out at the front (top of the page)"
    assert float(left.get("cx", 0)) < float(right.get("cx", 0)), "the patient's left on the left"
    sides = _text(root, "head")
    for word in ("Front (face)", "Back", "Left", "Right"):
        assert word in sides


def test_every_text_is_legible_at_print_size() -> None:
    """Printed PRINT_WIDTH_MM wide, no text of the map is smaller than 7 pt, in either language."""
    for language in Language:
        root = _svg(language)
        parents = {child: parent for parent in root.iter() for child in parent}
        texts = list(root.iter(f"{{{NS['svg']}}}text"))
        assert texts
        for text in texts:
            size_mm = _font_size(text, parents) * PRINT_WIDTH_MM / WIDTH
            assert size_mm >= LEGIBLE_MM, (text.text, size_mm)
    assert MIN_FONT * PRINT_WIDTH_MM / WIDTH >= LEGIBLE_MM


def test_the_print_width_the_map_assumes_is_the_one_the_stylesheet_prints() -> None:
    """The legibility sum holds only if app.css prints the map at PRINT_WIDTH_MM."""
    from mesoscreen.entrypoints.web import kit

    css = (kit.Path(kit.__file__).parent / "static" / "app.css").read_text("utf-8")
    assert f".map svg {{ width: {PRINT_WIDTH_MM / 10:g}cm; }}" in css


def test_every_point_is_drawn_once_in_its_zone() -> None:
    """One mark per point, numbered 1..N, each in its zone."""
    marks = _svg().findall(".//svg:g[@id='points']/svg:g", NS)
    numbers = sorted(int(m.get("data-number", 0)) for m in marks)
    assert numbers == list(range(1, len(PLAN.points) + 1))
    assert {m.get("data-zone") for m in marks} == {z.id for z in PLAN.zones}


def test_numbers_written_on_the_map_touch_no_other_number_or_point() -> None:
    """Numbers are written where they fit: beside their own point, clear of the others."""
    plan = PLANNER.plan(
        PlanRequest((), "norwood-3v", 1.2, "dutasteride_0_01", date(2026, 11, 25)), None
    )
    marks = _svg(plan=plan).findall(".//svg:g[@id='points']/svg:g", NS)
    dots, boxes = [], []
    for mark in marks:
        circle = mark.find("svg:circle", NS)
        assert circle is not None
        dots.append((float(circle.get("cx", 0)), float(circle.get("cy", 0))))
        label = mark.find("svg:text", NS)
        if label is None:
            continue
        assert label.text == mark.get("data-number")
        size = float(label.get("font-size", 0))
        width = DIGIT_WIDTH_EM * size * len(label.text or "")
        x, y, anchor = float(label.get("x", 0)), float(label.get("y", 0)), label.get("text-anchor")
        left = {"start": x, "end": x - width, "middle": x - width / 2}[anchor or "start"]
        boxes.append((left, y - HEIGHT_EM * size, left + width, y, dots[-1]))
    assert len(boxes) >= len(marks) // 4, "a good share of the points carry their number"
    for i, (l1, t1, r1, b1, own) in enumerate(boxes):
        for l2, t2, r2, b2, _ in boxes[i + 1 :]:
            assert not (l1 < r2 - 0.5 and l2 < r1 - 0.5 and t1 < b2 - 0.5 and t2 < b1 - 0.5)
        for dot in dots:
            if dot != own:
                assert not (l1 < dot[0] < r1 and t1 < dot[1] < b1)


def test_the_zone_table_gives_every_point_number_of_every_zone() -> None:
    """Each treated zone's row lists its points' numbers as runs, and its count."""
    plan = PLANNER.plan(
        PlanRequest((), "norwood-3v", 1.2, "dutasteride_0_01", date(2026, 11, 25)), None
    )
    root = _svg(plan=plan)
    for zone in plan.zones:
        row = root.find(f".//svg:g[@class='zone-row'][@data-zone='{zone.id}']", NS)
        assert row is not None
        listed = " ".join(t.text or "" for t in row.findall("svg:text[@class='numbers']", NS))
        expected = number_runs(p.number for p in plan.points if p.zone == zone.id)
        assert listed.replace("  ", " ") == expected
        assert str(zone.points) in " ".join(row.itertext())


def test_number_runs_join_consecutive_numbers() -> None:
    """1, 2, 3, 7, 9, 10 read as 1–3, 7, 9–10."""
    assert number_runs([9, 1, 2, 3, 7, 10]) == "1–3, 7, 9–10"
    assert number_runs([]) == ""


def test_neighbouring_marks_sit_about_a_spacing_apart_at_the_map_scale() -> None:
    """Near the vertex the azimuthal map is nearly true to scale: about one spacing apart."""
    scale = map_scale(PLAN.head)
    marks = _svg().findall(".//svg:g[@id='points']/svg:g/svg:circle", NS)
    xy = [(float(c.get("cx", 0)), float(c.get("cy", 0))) for c in marks]
    centre = (min(x for x, _ in xy) + max(x for x, _ in xy)) / 2
    near = [p for p in xy if abs(p[0] - centre) < 3 * scale][:20]
    for p in near:
        nearest = min(math.dist(p, q) for q in xy if q != p)
        assert 0.7 * scale < nearest < 1.3 * scale


def test_treated_zones_stand_out_from_untreated_ones() -> None:
    """Every atlas zone is outlined; treated ones are filled more strongly."""
    paths = _svg().findall(".//svg:g[@id='zones']/svg:path", NS)
    treated = {z.id for z in PLAN.zones}
    assert {p.get("data-zone") for p in paths} == set(ATLAS.zones)
    for path in paths:
        strong = float(path.get("fill-opacity", "0")) > 0.2
        assert strong == (path.get("data-zone") in treated)


def test_the_legend_is_in_vietnamese_with_decimal_commas() -> None:
    """Zone and stage names, words and numbers as Vietnamese writes them (1,5 not 1.5)."""
    plan = PLANNER.plan(
        PlanRequest(("vertex",), "ludwig-1", 1.5, "dutasteride_0_01", date(2026, 11, 25)), None
    )
    root = _svg(Language.VI, plan=plan)
    legend = _text(root, "legend")
    for zone in plan.zones:
        assert ATLAS.zones[zone.id].name.vi in legend
    assert f"Số điểm tiêm: {len(plan.points)}" in legend
    assert "Khoảng cách: 1,5 cm" in legend
    assert "Giai đoạn: Ludwig I" in legend
    assert f"Sản phẩm: {plan.product.name.vi} (0,1 mg/mL)" in legend
    assert not re.search(r"\d\.\d", legend), "no decimal point in Vietnamese"
    assert "Độ sâu 1,5–2 mm" in legend
    for english in ("Points", "Spacing", "Treated zones", "Totals", "per point"):
        assert english not in legend
    assert "Sơ đồ điểm tiêm" in "".join(root.itertext())
    assert "5 cm trên da đầu" in _text(root, "scale-bar")
    assert root.find(".//svg:g[@id='scale-bar']", NS) is not None


def test_stage_names_follow_the_language() -> None:
    """A stage named in words is translated: Norwood III vertex in Vietnamese."""
    plan = PLANNER.plan(
        PlanRequest((), "norwood-3v", 1.2, "dutasteride_0_01", date(2026, 11, 25)), None
    )
    assert "Giai đoạn: Norwood-Hamilton III đỉnh đầu" in _text(_svg(Language.VI, plan=plan),
                                                                "legend")  # fmt: skip
    assert "Stage: Norwood-Hamilton III vertex" in _text(_svg(plan=plan), "legend")


def test_the_legend_gives_volumes_and_the_dose_in_mg_beside_their_caps() -> None:
    """mL per point and per session, mg per point and per session, each cap, the depth."""
    legend = _text(_svg(), "legend")
    dose = PLAN.dose
    assert f"total {dose.total_volume_ml:g} mL (max 2 mL)" in legend
    assert f"Dose: 0.001 mg per point, {dose.total_dose:g} mg per session (max 0.5 mg)" in legend
    assert "Depth 1.5–2 mm" in legend
    assert "Product: Dutasteride 0.01% (0.1 mg/mL)" in legend


def test_a_mixture_says_in_the_legend_that_only_volume_caps_apply() -> None:
    """No mg figure is invented for a ready-to-use solution."""
    plan = PLANNER.plan(
        PlanRequest((), "norwood-1", 1.0, "multivitamin_complex", date(2026, 11, 25)), None
    )
    legend = _text(_svg(plan=plan), "legend")
    assert "Dose: a mixture, only the volume caps apply" in legend
    assert " mg" not in legend


@pytest.mark.parametrize(
    ("screening", "language", "words", "colour"),
    [
        (SCREENING, Language.EN, "Checked against the screening of Nov 25, 2026 (record 1a2b3c4d)",
         "#1b5e20"),
        (SCREENING, Language.VI, "Đã đối chiếu với lần sàng lọc ngày 25 thg 11, 2026 (hồ sơ "
         "1a2b3c4d)", "#1b5e20"),
        (CheckedScreening(date(2026, 11, 25), "1a2b3c4d", passes=False), Language.EN,
         "Screening of Nov 25, 2026 (record 1a2b3c4d): the plan no longer passes its check",
         "#b00020"),
        (None, Language.EN, "Not checked against a screening", "#b00020"),
        (None, Language.VI, "Chưa đối chiếu với lần sàng lọc nào", "#b00020"),
    ],
)  # fmt: skip
def test_the_map_names_the_screening_it_was_checked_against(
    screening: CheckedScreening | None, language: Language, words: str, colour: str
) -> None:
    """The screening named with its date and record; red when unchecked or no longer passing."""
    line = _svg(language, screening).find(".//svg:text[@id='screening']", NS)
    assert line is not None
    assert line.text == words
    assert line.get("fill") == colour


def test_the_same_plan_gives_the_same_drawing() -> None:
    """Deterministic: rendering twice gives the same bytes."""
    assert _render() == _render()
