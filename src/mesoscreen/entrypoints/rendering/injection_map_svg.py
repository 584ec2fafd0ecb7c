"""The injection map as SVG: a head seen from above, its zones, the points, legend and scale.

The head is drawn as a clinician sees it standing behind the seated patient: face at the top
(with the nose), ears at the sides, the patient's left on the page's left. Inside the outline
the drawing is an azimuthal map centred on the vertex: a point's distance from the centre is
its distance from the vertex measured on the head, so the scale bar is true along every
radius. Spacings were computed on the 3-D head, not on this drawing.

Legible at print size: the page prints the map ``PRINT_WIDTH_MM`` wide, so one drawing unit
is ``PRINT_WIDTH_MM / WIDTH`` mm and no text is smaller than ``MIN_FONT`` units (7 pt). At
that size a number does not fit beside every point 1 cm apart, so numbers are written where
they fit without touching another point or number, and the legend's table gives each zone's
point numbers. The words and numbers are in the reader's language (``words``), and the map
names the screening the plan was checked against, which every caller must say.

Deterministic: the same plan, atlas, language and screening give the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from xml.sax.saxutils import escape

from mesoscreen.domain.planner.head import HeadModel
from mesoscreen.domain.planner.layout import InjectionPoint
from mesoscreen.domain.planner.plan import PlannedTreatment
from mesoscreen.domain.planner.zones import ScalpAtlas, Zone
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.rendering.injection_map_legend import legend, zone_keys
from mesoscreen.entrypoints.rendering.map_labels import LabelPlacer
from mesoscreen.entrypoints.rendering.words import Words, words

__all__ = [
    "MIN_FONT",
    "PRINT_WIDTH_MM",
    "WIDTH",
    "CheckedScreening",
    "map_scale",
    "render_injection_map",
]

WIDTH = 800
PRINT_WIDTH_MM = 160.0  # app.css prints `.map svg` 16 cm wide
MIN_FONT = 13  # 13 units x 0.2 mm = 2.6 mm, about 7.4 pt at print size
NUMBER_FONT = MIN_FONT
CENTRE_X = 400.0
CENTRE_Y = 420.0
HEAD_RADIUS_PX = 270.0  # the outline's farthest point from the vertex
OUTLINE_THETA = 100.0  # the outline: just below the head-circumference line
NOSE_CM, EAR_LENGTH_CM, EAR_DEPTH_CM = 2.4, 6.0, 1.6
HEAD_BOTTOM = CENTRE_Y + HEAD_RADIUS_PX
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f")
INK, SKIN, OUTLINE = "#1d1d1d", "#fbf7f2", "#5b4636"
CHECKED, REFUSED = "#1b5e20", "#b00020"


@dataclass(frozen=True, slots=True)
class CheckedScreening:
    """The screening a plan was checked against, as the map names it.

    ``reference`` identifies it to the reader (a record id's first characters, a file
    name); ``passes`` is False when the plan no longer passes the check against it.
    """

    screened_on: date
    reference: str
    passes: bool = True


# The outline, the zones' edges and the scale are the same for every map of one head (a
# saved plan's page draws it at every visit): their arc lengths are kept.
@lru_cache(maxsize=8192)
def _distance_from_vertex(head: HeadModel, theta: float, phi: float, steps: int = 48) -> float:
    """Arc length in cm from the vertex to (theta, phi) along the meridian."""
    d_theta = theta / steps
    return sum(head.meridian_speed((i + 0.5) * d_theta, phi) for i in range(steps)) * math.radians(
        d_theta
    )


def map_scale(head: HeadModel) -> float:
    """Drawing units per cm on the scalp: the outline's farthest point at ``HEAD_RADIUS_PX``."""
    reach = max(_distance_from_vertex(head, OUTLINE_THETA, phi) for phi in range(-180, 181, 15))
    return HEAD_RADIUS_PX / reach


class _Projection:
    """Scalp places to page coordinates: front up, the patient's left on the page's left."""

    def __init__(self, head: HeadModel) -> None:
        self.head = head
        self.px_per_cm = map_scale(head)

    def xy(self, distance_cm: float, phi: float) -> tuple[float, float]:
        """The page position of the place ``distance_cm`` from the vertex at azimuth ``phi``."""
        rad = math.radians(phi)
        r = distance_cm * self.px_per_cm
        return CENTRE_X - r * math.sin(rad), CENTRE_Y - r * math.cos(rad)

    def at(self, theta: float, phi: float) -> tuple[float, float]:
        """The page position of the scalp point (theta, phi)."""
        return self.xy(_distance_from_vertex(self.head, theta, phi), phi)


def _path(points: list[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + " Z"


def _zone_paths(zone: Zone, projection: _Projection) -> list[str]:
    """SVG path data outlining each patch of a zone."""
    paths = []
    for patch in zone.patches:
        steps = 24
        phis = [
            patch.phi_min + (patch.phi_max - patch.phi_min) * k / steps for k in range(steps + 1)
        ]
        outline = [projection.at(patch.theta_max, phi) for phi in phis]
        outline += [projection.at(patch.theta_min, phi) for phi in reversed(phis)]
        paths.append(_path(outline))
    return paths


def _zone_centre(zone: Zone, projection: _Projection) -> tuple[float, float]:
    """Where a zone's key letter goes: the middle of its first patch."""
    patch = zone.patches[0]
    theta = (patch.theta_min + patch.theta_max) / 2 if patch.theta_min > 0 else 0.0
    return projection.at(theta, (patch.phi_min + patch.phi_max) / 2)


def _head(projection: _Projection, say: Words) -> list[str]:
    """Ears and nose under the outline of the scalp, with the sides named."""
    px = projection.px_per_cm
    edge = {phi: projection.at(OUTLINE_THETA, phi) for phi in range(-180, 181, 5)}
    out = []
    for side, phi, label in (("left", 90, say("Left")), ("right", -90, say("Right"))):
        ex, ey = edge[phi]
        towards = -1.0 if phi > 0 else 1.0  # outwards on the page: left is x smaller
        cx = ex + towards * (EAR_DEPTH_CM * px * 0.45)
        out.append(
            f'<ellipse id="ear-{side}" cx="{cx:.1f}" cy="{ey:.1f}" rx="{EAR_DEPTH_CM * px:.1f}" '
            f'ry="{EAR_LENGTH_CM * px / 2:.1f}" fill="{SKIN}" stroke="{OUTLINE}" stroke-width="2"/>'
        )
        anchor = "end" if phi > 0 else "start"
        tx = cx + towards * (EAR_DEPTH_CM * px + 6)
        out.append(
            f'<text class="side" x="{tx:.1f}" y="{ey + 5:.1f}" font-size="15" '
            f'text-anchor="{anchor}" fill="{OUTLINE}">{escape(label)}</text>'
        )
    left, tip_base, right = edge[10], edge[0], edge[-10]
    tip = (tip_base[0], tip_base[1] - NOSE_CM * px)
    out.append(
        f'<path id="nose" fill="{SKIN}" stroke="{OUTLINE}" stroke-width="2" '
        f'd="M{left[0]:.1f},{left[1]:.1f} Q{tip[0] - 0.4 * px:.1f},{tip[1] + 0.3 * px:.1f} '
        f"{tip[0]:.1f},{tip[1]:.1f} Q{tip[0] + 0.4 * px:.1f},{tip[1] + 0.3 * px:.1f} "
        f'{right[0]:.1f},{right[1]:.1f} Z"/>'
    )
    out.append(
        f'<path id="head-outline" fill="{SKIN}" stroke="{OUTLINE}" stroke-width="2.5" '
        f'd="{_path([edge[phi] for phi in range(-180, 180, 5)])}"/>'
    )
    front, back_word = escape(say("Front (face)")), escape(say("Back"))
    out.append(
        f'<text class="side" x="{tip[0] + 0.8 * px:.1f}" y="{tip[1] + 6:.1f}" font-size="15" '
        f'fill="{OUTLINE}">{front}</text>'
    )
    back = edge[180]
    out.append(
        f'<text class="side" x="{back[0]:.1f}" y="{back[1] + 22:.1f}" font-size="15" '
        f'text-anchor="middle" fill="{OUTLINE}">{back_word}</text>'
    )
    return out


def _screening_line(screening: CheckedScreening | None, say: Words) -> str:
    """The screening the plan was checked against, or that it was not checked."""
    if screening is None:
        text, colour = say("Not checked against a screening"), REFUSED
    else:
        values = {"date": say.date(screening.screened_on), "reference": screening.reference}
        if screening.passes:
            text = say("Checked against the screening of %(date)s (record %(reference)s)", **values)
            colour = CHECKED
        else:
            text = say(
                "Screening of %(date)s (record %(reference)s): the plan no longer passes its check",
                **values,
            )
            colour = REFUSED
    return (
        f'<text id="screening" x="20" y="80" font-size="15" font-weight="bold" '
        f'fill="{colour}">{escape(text)}</text>'
    )


def _points(
    points: tuple[InjectionPoint, ...],
    projection: _Projection,
    obstacles: list[tuple[float, float, float, float]],
) -> list[str]:
    """Each point as a dot; its number beside it where the number fits."""
    placed = [(p, *projection.xy(p.distance_from_vertex_cm, p.phi)) for p in points]
    placer = LabelPlacer([(x, y) for _, x, y in placed], obstacles, NUMBER_FONT)
    out = ['<g id="points">']
    for index, (point, x, y) in enumerate(placed):
        mark = (
            f'<g class="point" data-zone="{point.zone}" data-number="{point.number}">'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{INK}"/>'
        )
        spot = placer.place(index, str(point.number))
        if spot is not None:
            tx, ty, anchor = spot
            mark += (
                f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="{NUMBER_FONT}" '
                f'text-anchor="{anchor}" fill="{INK}" stroke="#ffffff" stroke-width="3" '
                f'paint-order="stroke">{point.number}</text>'
            )
        out.append(mark + "</g>")
    out.append("</g>")
    return out


def _scale_bar(px_per_cm: float, say: Words) -> list[str]:
    """A 5 cm scale bar, true along any radius of the map."""
    x0, y0, length = 24.0, HEAD_BOTTOM + 50.0, 5 * px_per_cm
    caption = escape(say("5 cm on the scalp (from the vertex)"))
    return [
        f'<g id="scale-bar" font-size="{MIN_FONT}" fill="#222">',
        f'<line x1="{x0}" y1="{y0}" x2="{x0 + length:.1f}" y2="{y0}" stroke="#222" '
        'stroke-width="3"/>',
        f'<line x1="{x0}" y1="{y0 - 6}" x2="{x0}" y2="{y0 + 6}" stroke="#222" stroke-width="2"/>',
        f'<line x1="{x0 + length:.1f}" y1="{y0 - 6}" x2="{x0 + length:.1f}" y2="{y0 + 6}" '
        'stroke="#222" stroke-width="2"/>',
        f'<text x="{x0 + length + 10:.1f}" y="{y0 + 5}">{caption}</text>',
        "</g>",
    ]


def render_injection_map(
    plan: PlannedTreatment,
    atlas: ScalpAtlas,
    language: Language,
    *,
    screening: CheckedScreening | None,
) -> str:
    """The plan as a standalone SVG document in ``language``, naming ``screening`` (the
    screening it was checked against; None says in red that it was not checked)."""
    say = words(language)
    projection = _Projection(plan.head)
    colours = {zone.id: PALETTE[i % len(PALETTE)] for i, zone in enumerate(atlas.zones.values())}
    keys = zone_keys(plan)
    title = escape(say("Injection map"))
    seen_from = escape(say("Seen from above, face at the top"))
    description = say(
        "%(count)s injection points, %(spacing)s cm apart on the scalp, over %(area)s cm².",
        count=say.number(len(plan.points)),
        spacing=say.number(plan.spacing_cm),
        area=say.number(plan.area_cm2),
    )
    key_badges, obstacles = [], []
    for zone in plan.zones:
        x, y = _zone_centre(atlas.zones[zone.id], projection)
        key_badges.append(
            f'<g class="zone-key" data-zone="{zone.id}"><circle cx="{x:.1f}" cy="{y:.1f}" '
            f'r="11" fill="{colours[zone.id]}" stroke="#ffffff" stroke-width="1.5"/>'
            f'<text x="{x:.1f}" y="{y + 5:.1f}" font-size="14" font-weight="bold" '
            f'text-anchor="middle" fill="#ffffff">{keys[zone.id]}</text></g>'
        )
        obstacles.append((x - 12, y - 12, x + 12, y + 12))
    body, height = legend(plan, atlas, colours, keys, say, top=HEAD_BOTTOM + 80)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="map-title map-desc" '
        f'font-family="system-ui, sans-serif" lang="{language.value}">',
        f'<title id="map-title">{title}</title>',
        f'<desc id="map-desc">{escape(description)}</desc>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="20" y="32" font-size="20" font-weight="bold" fill="#222">{title}</text>',
        f'<text x="20" y="54" font-size="{MIN_FONT}" fill="#444">{seen_from}</text>',
        _screening_line(screening, say),
        '<g id="head">',
        *_head(projection, say),
        "</g>",
        '<g id="zones">',
    ]
    treated = {z.id for z in plan.zones}
    for drawn in atlas.zones.values():
        opacity = "0.35" if drawn.id in treated else "0.06"
        for d in _zone_paths(drawn, projection):
            parts.append(
                f'<path class="zone" data-zone="{drawn.id}" d="{d}" fill="{colours[drawn.id]}" '
                f'fill-opacity="{opacity}" stroke="{colours[drawn.id]}" stroke-width="1"/>'
            )
    parts.append("</g>")
    parts += ['<g id="zone-keys">', *key_badges, "</g>"]
    parts += _points(plan.points, projection, obstacles)
    parts += _scale_bar(projection.px_per_cm, say)
    parts += body
    parts.append("</svg>")
    return "\n".join(parts)
