"""The injection map's legend: a table of the treated zones with their point numbers, then the
totals (points, area, spacing, product, volumes and dose beside their caps, depth, stage).

Every figure is written in the reader's language (``words``); long cells are wrapped so that
nothing runs off the drawing at its legible font size.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from string import ascii_uppercase
from xml.sax.saxutils import escape

from mesoscreen.domain.planner.plan import PlannedTreatment
from mesoscreen.domain.planner.zones import ScalpAtlas
from mesoscreen.entrypoints.rendering.words import Words

FONT = 13
TITLE_FONT = 16
LINE = 19
# Characters per line at FONT (about 0.55 em a character for mixed text).
ZONE_CHARS, NUMBERS_CHARS, NOTE_CHARS = 24, 46, 100
X_KEY, X_ZONE, X_NUMBERS, X_COUNT, X_AREA = 20, 52, 250, 650, 780


def zone_keys(plan: PlannedTreatment) -> dict[str, str]:
    """A letter for each treated zone, in the plan's order: A, B, C, ..."""
    return {zone.id: ascii_uppercase[i % 26] for i, zone in enumerate(plan.zones)}


def number_runs(numbers: Iterable[int]) -> str:
    """Numbers as runs: ``1–3, 7, 9–12`` (sorted, each run of consecutive numbers joined)."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def _text(x: float, y: float, text: str, **attributes: str) -> str:
    extra = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{value}"' for name, value in attributes.items()
    )
    return f'<text x="{x}" y="{y}"{extra}>{escape(text)}</text>'


def _product_line(plan: PlannedTreatment, say: Words) -> str:
    """The product by name (which carries its strength as a label), with its amount per mL
    written in the reader's number format when the formulary gives one."""
    product = plan.product
    name = product.name.in_language(say.language)
    strength = product.concentration
    if strength.amount_per_ml is None or strength.unit is None:
        return say("Product: %(product)s", product=name)
    amount = f"{say.number(strength.amount_per_ml)} {strength.unit.value}/mL"
    return say("Product: %(product)s (%(concentration)s)", product=name, concentration=amount)


def _totals(plan: PlannedTreatment, atlas: ScalpAtlas, say: Words) -> list[str]:
    """The lines under the table."""
    product, dose, caps = plan.product, plan.dose, plan.product.caps
    n = say.number
    lines = []
    stage = atlas.stages.get(plan.request.stage or "")
    if stage is not None:
        name = f"{stage.scale} {stage.name.in_language(say.language)}"
        lines.append(say("Stage: %(stage)s", stage=name))
    lines += [
        say("Points: %(count)s", count=n(len(plan.points))),
        say("Area: %(area)s cm²", area=n(plan.area_cm2)),
        say("Spacing: %(spacing)s cm (on the head: %(mean)s cm mean)",
            spacing=n(plan.spacing_cm), mean=n(plan.spacing.mean_cm, 2)),
        _product_line(plan, say),
        say("%(per_point)s mL per point, total %(total)s mL (max %(cap)s mL)",
            per_point=n(dose.volume_per_point_ml), total=n(dose.total_volume_ml),
            cap=n(caps.volume_per_session_ml)),
    ]  # fmt: skip
    if (
        dose.total_dose is None
        or dose.dose_per_point is None
        or dose.unit is None
        or caps.dose_per_session is None
    ):
        lines.append(say("Dose: a mixture, only the volume caps apply"))
    else:
        lines.append(
            say("Dose: %(per_point)s %(unit)s per point, %(total)s %(unit)s per session "
                "(max %(cap)s %(unit)s)", per_point=n(dose.dose_per_point),
                unit=dose.unit.value, total=n(dose.total_dose), cap=n(caps.dose_per_session))
        )  # fmt: skip
    lines.append(
        say("Depth %(shallowest)s–%(deepest)s mm, needle %(needle)s",
            shallowest=n(dose.depth_mm[0]), deepest=n(dose.depth_mm[1]), needle=product.needle)
    )  # fmt: skip
    return lines


def legend(
    plan: PlannedTreatment,
    atlas: ScalpAtlas,
    colours: Mapping[str, str],
    keys: Mapping[str, str],
    say: Words,
    top: float,
) -> tuple[list[str], int]:
    """The legend's SVG from ``top`` down, and the drawing's height that holds it."""
    y = top
    out = [f'<g id="legend" font-size="{FONT}" fill="#222">']
    out.append(_text(X_KEY, y, say("Treated zones"), font_size=str(TITLE_FONT),
                     font_weight="bold"))  # fmt: skip
    y += LINE + 6
    header = '<g class="zone-table-header" font-weight="bold">'
    header += _text(X_ZONE, y, say("Zone")) + _text(X_NUMBERS, y, say("Point numbers"))
    header += _text(X_COUNT, y, say("Points"), text_anchor="end")
    header += _text(X_AREA, y, say("Area") + " cm²", text_anchor="end") + "</g>"
    out.append(header)
    for zone in plan.zones:
        y += LINE + 4
        name = atlas.zones[zone.id].name.in_language(say.language)
        numbers = number_runs(p.number for p in plan.points if p.zone == zone.id) or "–"
        zone_lines = textwrap.wrap(name, ZONE_CHARS) or [name]
        number_lines = textwrap.wrap(numbers, NUMBERS_CHARS) or [numbers]
        row = [
            f'<g class="zone-row" data-zone="{zone.id}">',
            f'<rect x="{X_KEY}" y="{y - 14}" width="22" height="20" rx="3" '
            f'fill="{colours[zone.id]}"/>',
            _text(X_KEY + 11, y + 1, keys[zone.id], font_weight="bold", fill="#ffffff",
                  text_anchor="middle"),
            _text(X_COUNT, y, say.number(zone.points), text_anchor="end"),
            _text(X_AREA, y, say.number(zone.area_cm2, 0), text_anchor="end"),
        ]  # fmt: skip
        row += [_text(X_ZONE, y + i * LINE, line) for i, line in enumerate(zone_lines)]
        row += [
            _text(X_NUMBERS, y + i * LINE, line, class_="numbers")
            for i, line in enumerate(number_lines)
        ]
        out += [*row, "</g>"]
        y += (max(len(zone_lines), len(number_lines)) - 1) * LINE
    y += LINE + 6
    note = say(
        "Numbers are shown on the map where they fit; the table gives every zone's numbers, "
        "which run ring by ring from the vertex outwards."
    )
    for line in textwrap.wrap(note, NOTE_CHARS):
        out.append(_text(X_KEY, y, line, fill="#444"))
        y += LINE
    y += 14
    out.append(_text(X_KEY, y, say("Totals"), id="totals-title", font_size=str(TITLE_FONT),
                     font_weight="bold"))  # fmt: skip
    for line in _totals(plan, atlas, say):
        for part in textwrap.wrap(line, NOTE_CHARS) or [line]:
            y += LINE + 3
            out.append(_text(X_KEY, y, part, class_="total"))
    out.append("</g>")
    return out, int(y + 24)
