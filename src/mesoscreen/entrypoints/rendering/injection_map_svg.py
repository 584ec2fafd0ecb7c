"""The injection map as SVG: the scalp seen from above, zones, numbered points, legend, scale.

The drawing is an azimuthal map centred on the vertex: a point's distance from the centre
is its distance from the vertex measured on the head, so the scale bar is true along every
radius. Spacings were computed on the 3-D head, not on this drawing.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from mesoscreen.domain.planner.head import HeadModel
from mesoscreen.domain.planner.plan import TreatmentPlan
from mesoscreen.domain.planner.zones import ScalpAtlas, Zone
from mesoscreen.domain.vocabulary import Language

PX_PER_CM = 13.5
CENTRE = 345.0
WIDTH, HEIGHT = 1160, 700
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f")


def _distance_from_vertex(head: HeadModel, theta: float, phi: float, steps: int = 48) -> float:
    """Arc length in cm from the vertex to (theta, phi) along the meridian."""
    d_theta = theta / steps
    return sum(head.meridian_speed((i + 0.5) * d_theta, phi) for i in range(steps)) * math.radians(
        d_theta
    )


def _xy(distance_cm: float, phi: float) -> tuple[float, float]:
    """Page coordinates: front up, the patient's left on the page's left (seen from above)."""
    rad = math.radians(phi)
    return (
        CENTRE - distance_cm * PX_PER_CM * math.sin(rad),
        CENTRE - distance_cm * PX_PER_CM * math.cos(rad),
    )


def _zone_paths(zone: Zone, head: HeadModel) -> list[str]:
    """SVG path data outlining each patch of a zone."""
    paths = []
    for patch in zone.patches:
        outline: list[tuple[float, float]] = []
        steps = 24
        phis = [
            patch.phi_min + (patch.phi_max - patch.phi_min) * k / steps for k in range(steps + 1)
        ]
        for phi in phis:
            outline.append(_xy(_distance_from_vertex(head, patch.theta_max, phi), phi))
        for phi in reversed(phis):
            outline.append(_xy(_distance_from_vertex(head, patch.theta_min, phi), phi))
        paths.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in outline) + " Z")
    return paths


def render_injection_map(
    plan: TreatmentPlan, atlas: ScalpAtlas, language: Language = Language.EN
) -> str:
    """The plan as a standalone SVG document."""
    head = plan.head
    colours = {zone.id: PALETTE[i % len(PALETTE)] for i, zone in enumerate(atlas.zones.values())}
    treated = {z.id for z in plan.zones}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="map-title map-desc" '
        'font-family="system-ui, sans-serif">',
        '<title id="map-title">Injection map</title>',
        f'<desc id="map-desc">{len(plan.points)} injection points, {plan.spacing_cm:g} cm apart '
        f"on the scalp, over {plan.area_cm2:g} cm2.</desc>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    outline = [_xy(_distance_from_vertex(head, 100.0, phi), phi) for phi in range(-180, 181, 5)]
    parts.append(
        '<path id="head-outline" fill="#fbf7f2" stroke="#5b4636" stroke-width="2" d="M'
        + " L".join(f"{x:.1f},{y:.1f}" for x, y in outline)
        + ' Z"/>'
    )
    parts.append('<g id="zones">')
    for zone in atlas.zones.values():
        opacity = "0.35" if zone.id in treated else "0.06"
        for d in _zone_paths(zone, head):
            parts.append(
                f'<path class="zone" data-zone="{zone.id}" d="{d}" fill="{colours[zone.id]}" '
                f'fill-opacity="{opacity}" stroke="{colours[zone.id]}" stroke-width="1"/>'
            )
    parts.append("</g>")
    parts.append('<g id="points">')
    for point in plan.points:
        x, y = _xy(point.distance_from_vertex_cm, point.phi)
        parts.append(
            f'<g class="point" data-zone="{point.zone}"><circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" '
            f'fill="#1d1d1d"/><text x="{x + 4:.1f}" y="{y - 3:.1f}" font-size="6" '
            f'fill="#333">{point.number}</text></g>'
        )
    parts.append("</g>")
    parts += _orientation()
    parts += _legend(plan, atlas, colours, language)
    parts += _scale_bar()
    parts.append("</svg>")
    return "\n".join(parts)


def _orientation() -> list[str]:
    """Front, back, left and right labels."""
    return [
        '<g id="orientation" font-size="14" fill="#5b4636" text-anchor="middle">',
        f'<text x="{CENTRE}" y="22">FRONT</text>',
        f'<text x="{CENTRE}" y="{HEIGHT - 16}">BACK</text>',
        f'<text x="22" y="{CENTRE}">L</text>',
        f'<text x="{2 * CENTRE - 22}" y="{CENTRE}">R</text>',
        "</g>",
    ]


def _legend(
    plan: TreatmentPlan, atlas: ScalpAtlas, colours: dict[str, str], language: Language
) -> list[str]:
    """Zones with area and point count, then the totals."""
    x0, y = 720, 40
    out = [
        '<g id="legend" font-size="13" fill="#222">',
        f'<text x="{x0}" y="{y}" font-size="16" font-weight="bold">Treated zones</text>',
    ]
    for zone in plan.zones:
        y += 24
        name = escape(atlas.zones[zone.id].name.in_language(language))
        out.append(
            f'<rect x="{x0}" y="{y - 12}" width="14" height="14" fill="{colours[zone.id]}" '
            f'fill-opacity="0.6"/><text x="{x0 + 20}" y="{y}">{name}: {zone.points} points, '
            f"{zone.area_cm2:.0f} cm²</text>"
        )
    product = plan.product
    dose, caps = plan.dose, product.caps
    totals = [
        f"Points: {len(plan.points)}",
        f"Area: {plan.area_cm2:g} cm²",
        f"Spacing: {plan.spacing_cm:g} cm (on the head: {plan.spacing.mean_cm:.2f} cm mean)",
        f"Product: {escape(product.name.in_language(language))} "
        f"({escape(product.concentration.label)})",
        f"{dose.volume_per_point_ml:g} mL per point, total {dose.total_volume_ml:g} mL "
        f"(max {caps.volume_per_session_ml:g} mL)",
        _dose_line(plan),
        f"Depth {dose.depth_mm[0]:g}-{dose.depth_mm[1]:g} mm, needle {escape(product.needle)}",
    ]
    y += 20
    out.append(
        f'<text id="totals-title" x="{x0}" y="{y + 16}" font-size="16" '
        'font-weight="bold">Totals</text>'
    )
    y += 16
    for line in totals:
        y += 22
        out.append(f'<text class="total" x="{x0}" y="{y}">{line}</text>')
    if not plan.screening_checked:
        out.append(
            f'<text x="{x0}" y="{y + 30}" fill="#b00020" font-weight="bold">'
            "Not checked against a screening</text>"
        )
    out.append("</g>")
    return out


def _dose_line(plan: TreatmentPlan) -> str:
    """The session's dose of active substance and its cap, or why only volume caps apply."""
    dose, caps = plan.dose, plan.product.caps
    if dose.total_dose is None or dose.unit is None or caps.dose_per_session is None:
        return "Dose: a mixture, only the volume caps apply"
    unit = dose.unit.value
    return (
        f"Dose: {dose.dose_per_point:g} {unit} per point, {dose.total_dose:g} {unit} "
        f"per session (max {caps.dose_per_session:g} {unit})"
    )


def _scale_bar() -> list[str]:
    """A 5 cm scale bar, true along any radius of the map."""
    x0, y0, length = 40.0, HEIGHT - 50.0, 5 * PX_PER_CM
    return [
        '<g id="scale-bar" font-size="12" fill="#222">',
        f'<line x1="{x0}" y1="{y0}" x2="{x0 + length}" y2="{y0}" stroke="#222" stroke-width="3"/>',
        f'<line x1="{x0}" y1="{y0 - 6}" x2="{x0}" y2="{y0 + 6}" stroke="#222" stroke-width="2"/>',
        f'<line x1="{x0 + length}" y1="{y0 - 6}" x2="{x0 + length}" y2="{y0 + 6}" '
        'stroke="#222" stroke-width="2"/>',
        f'<text x="{x0}" y="{y0 - 10}">5 cm on the scalp (from the vertex)</text>',
        "</g>",
    ]
