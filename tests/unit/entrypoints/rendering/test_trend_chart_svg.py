"""The trend chart: well-formed SVG, one point per value, time to scale, the normal range shown."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from mesoscreen.domain.outcomes import Trend, TrendPoint
from mesoscreen.entrypoints.rendering.trend_chart_svg import trend_chart_svg
from mesoscreen.knowledge.outcome_scales_loader import default_outcome_scales

SVG = "{http://www.w3.org/2000/svg}"
SCALES = default_outcome_scales()


def _chart(measure: str, points: list[tuple[date, float]], title: str = "Density") -> ET.Element:
    trend = Trend(SCALES[measure], tuple(TrendPoint(d, v, None) for d, v in points))
    markup = trend_chart_svg(trend, title, date.isoformat, lambda v: f"{v:g}", "normal")
    return ET.fromstring(markup)  # noqa: S314 (own output)


def test_each_value_is_a_labelled_point_placed_in_proportion_to_time() -> None:
    """A gap of 60 days is twice as wide as a gap of 30."""
    root = _chart("density_per_cm2", [(date(2026, 9, 1), 120.0), (date(2026, 10, 1), 150.0),
                                      (date(2026, 11, 30), 170.0)])  # fmt: skip
    xs = [float(c.get("cx", "0")) for c in root.iter(f"{SVG}circle")]
    assert len(xs) == 3
    assert abs((xs[2] - xs[1]) - 2 * (xs[1] - xs[0])) < 1.0
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"120", "150", "170", "2026-09-01", "2026-11-30"} <= set(texts)


def test_a_higher_value_is_drawn_higher() -> None:
    """SVG's y grows downwards, so a larger density has a smaller y."""
    root = _chart("density_per_cm2", [(date(2026, 9, 1), 120.0), (date(2026, 10, 1), 250.0)])
    ys = [float(c.get("cy", "0")) for c in root.iter(f"{SVG}circle")]
    assert ys[1] < ys[0]


def test_the_normal_density_range_is_a_band_and_thickness_has_none() -> None:
    """Density shows clinical-facts E6's 175-300 band; thickness has no reference range."""
    density = _chart("density_per_cm2", [(date(2026, 9, 1), 120.0)])
    assert [r.get("class") for r in density.iter(f"{SVG}rect")] == ["reference"]
    thickness = _chart("shaft_thickness_um", [(date(2026, 9, 1), 60.0)], "Thickness")
    assert list(thickness.iter(f"{SVG}rect")) == []
    assert len(list(thickness.iter(f"{SVG}circle"))) == 1


def test_text_is_escaped() -> None:
    """A title with markup characters stays text."""
    root = _chart("density_per_cm2", [(date(2026, 9, 1), 120.0)], title="<b>&</b>")
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}title").text == "<b>&</b>"  # type: ignore[union-attr]
