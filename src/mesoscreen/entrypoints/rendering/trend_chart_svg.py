"""A measure's trend across sessions as a small SVG line chart, drawn on the server.

Time runs left to right in proportion to the days between measurements, so a long gap
between sessions looks long. A normal range, where the knowledge base gives one, is a
shaded band; every point carries its value, so the chart reads without hovering.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from xml.sax.saxutils import escape

from mesoscreen.domain.outcomes import Trend

WIDTH, HEIGHT = 560, 230
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 34, 44
LINE = "#4e79a7"
BAND = "#59a14f"


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2 or 5 times a power of ten apart)."""
    span = high - low or abs(high) or 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    return ticks


def trend_chart_svg(
    trend: Trend,
    title: str,
    date_label: Callable[[date], str],
    number: Callable[[float], str],
    reference_label: str = "",
) -> str:
    """The SVG markup of ``trend``; labels come formatted for the reader's language."""
    scale = trend.measure
    values = [p.value for p in trend.points]
    low, high = min(values), max(values)
    if scale.reference is not None:
        low, high = min(low, scale.reference[0]), max(high, scale.reference[1])
    if scale.labels is not None:  # an ordinal scale is always shown whole
        low, high = scale.minimum, scale.maximum
    ticks = _nice_ticks(low, high) if high > low else _nice_ticks(low - 1, high + 1)
    y_min, y_max = ticks[0], ticks[-1]
    first_day = trend.points[0].on
    days = max((trend.points[-1].on - first_day).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        if len(trend.points) == 1:
            return LEFT + plot_w / 2
        return LEFT + plot_w * (day - first_day).days / days

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - y_min) / (y_max - y_min))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="trend-chart" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}" '
        f'data-measure="{scale.id}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="600">{escape(title)}</text>',
    ]
    if scale.reference is not None:
        top, bottom = y(scale.reference[1]), y(scale.reference[0])
        parts.append(
            f'<rect class="reference" x="{LEFT}" y="{top:.1f}" width="{plot_w}" '
            f'height="{bottom - top:.1f}" fill="{BAND}" fill-opacity="0.12"/>'
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{top + 12:.1f}" font-size="10" text-anchor="end" '
            f'fill="{BAND}">{escape(reference_label)}</text>'
        )
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" font-size="10" text-anchor="end">'
            f"{escape(number(tick))}</text>"
        )
    coordinates = [(x(p.on), y(p.value)) for p in trend.points]
    if len(coordinates) > 1:
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coordinates)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for point, (cx, cy) in zip(trend.points, coordinates, strict=True):
        parts.append(f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{LINE}"/>')
        parts.append(
            f'<text x="{cx:.1f}" y="{cy - 8:.1f}" font-size="10" text-anchor="middle">'
            f"{escape(number(point.value))}</text>"
        )
        parts.append(
            f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="10" '
            f'text-anchor="middle">{escape(date_label(point.on))}</text>'
        )
    parts.append(f'<text x="{LEFT - 44}" y="{TOP - 10}" font-size="10">{escape(scale.unit)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
