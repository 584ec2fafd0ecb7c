"""The injection map SVG: well-formed, labelled, one numbered mark per point, legend and scale."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import date

from mesoscreen.domain.planner.plan import PlanRequest
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.rendering.injection_map_svg import PX_PER_CM, render_injection_map
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import default_atlas, load_formulary
from mesoscreen.services.planning import PlanningService

NS = {"svg": "http://www.w3.org/2000/svg"}
ATLAS = default_atlas()
PLAN = PlanningService(ATLAS, load_formulary(kb=default_knowledge_base())).plan(
    PlanRequest(("vertex",), "ludwig-1", 1.0, "dutasteride_0_01", date(2026, 11, 25)), None
)


def _svg(language: Language = Language.EN) -> ET.Element:
    return ET.fromstring(render_injection_map(PLAN, ATLAS, language))  # noqa: S314 (own output)


def test_the_map_is_valid_svg_with_a_title_and_description_for_screen_readers() -> None:
    """role=img, labelled by a title and a description that states the totals."""
    root = _svg()
    assert root.get("role") == "img"
    desc = root.find("svg:desc", NS)
    assert desc is not None
    assert desc.text is not None
    assert f"{len(PLAN.points)} injection points" in desc.text


def test_every_point_is_drawn_once_numbered_from_one() -> None:
    """The numbers on the map are exactly 1..N, each in its zone."""
    marks = _svg().findall("svg:g[@id='points']/svg:g", NS)
    numbers = sorted(int(m.findtext("svg:text", namespaces=NS) or 0) for m in marks)
    assert numbers == list(range(1, len(PLAN.points) + 1))
    assert {m.get("data-zone") for m in marks} == {z.id for z in PLAN.zones}


def test_treated_zones_stand_out_from_untreated_ones() -> None:
    """Every atlas zone is outlined; treated ones are filled more strongly."""
    paths = _svg().findall("svg:g[@id='zones']/svg:path", NS)
    treated = {z.id for z in PLAN.zones}
    assert {p.get("data-zone") for p in paths} == set(ATLAS.zones)
    for path in paths:
        strong = float(path.get("fill-opacity", "0")) > 0.2
        assert strong == (path.get("data-zone") in treated)


def test_neighbouring_marks_sit_about_a_spacing_apart_at_the_map_scale() -> None:
    """Near the vertex the azimuthal map is nearly true to scale: about PX_PER_CM apart."""
    marks = _svg().findall("svg:g[@id='points']/svg:g/svg:circle", NS)
    xy = [(float(c.get("cx", 0)), float(c.get("cy", 0))) for c in marks]
    centre = (min(x for x, _ in xy) + max(x for x, _ in xy)) / 2
    near = [p for p in xy if abs(p[0] - centre) < 3 * PX_PER_CM][:20]
    for p in near:
        nearest = min(math.dist(p, q) for q in xy if q != p)
        assert 0.7 * PX_PER_CM < nearest < 1.3 * PX_PER_CM


def test_legend_totals_and_scale_bar_are_there_in_the_chosen_language() -> None:
    """The legend names the treated zones in Vietnamese when asked; a scale bar and totals."""
    root = _svg(Language.VI)
    legend = "".join(root.find("svg:g[@id='legend']", NS).itertext())  # type: ignore[union-attr]
    for zone in PLAN.zones:
        assert ATLAS.zones[zone.id].name.vi in legend
    assert f"Points: {len(PLAN.points)}" in legend
    assert root.find("svg:g[@id='scale-bar']", NS) is not None


def test_the_legend_gives_volumes_and_the_dose_in_mg_beside_their_caps() -> None:
    """mL per point and per session, mg per point and per session, each cap, the depth."""
    legend = "".join(_svg().find("svg:g[@id='legend']", NS).itertext())  # type: ignore[union-attr]
    dose = PLAN.dose
    assert f"total {dose.total_volume_ml:g} mL (max 2 mL)" in legend
    assert f"Dose: 0.001 mg per point, {dose.total_dose:g} mg per session (max 0.5 mg)" in legend
    assert "Depth 1.5-2 mm" in legend
    assert "(0.01%)" in legend


def test_a_mixture_says_in_the_legend_that_only_volume_caps_apply() -> None:
    """No mg figure is invented for a ready-to-use solution."""
    formulary = load_formulary(kb=default_knowledge_base())
    plan = PlanningService(ATLAS, formulary).plan(
        PlanRequest((), "norwood-1", 1.0, "multivitamin_complex", date(2026, 11, 25)), None
    )
    root = ET.fromstring(render_injection_map(plan, ATLAS))  # noqa: S314 (own output)
    legend = "".join(root.find("svg:g[@id='legend']", NS).itertext())  # type: ignore[union-attr]
    assert "Dose: a mixture, only the volume caps apply" in legend
    assert " mg" not in legend
