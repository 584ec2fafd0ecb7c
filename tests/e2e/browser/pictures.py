"""Screenshots compared with the baselines kept in ``baselines/``, within a small tolerance.

Baselines are kept at half the screenshot's size (each pixel the mean of four) in a fixed
256-colour palette, which keeps eighty pages under 2 MB; a moved or changed word still
changes hundreds of their pixels. A picture differs from its baseline when its size differs
or when more than
``TOLERATED_SHARE`` of its pixels differ by more than ``TOLERATED_LEVEL`` in a colour channel
(antialiasing moves a few edge pixels by a few levels; a moved label moves hundreds). A
differing picture fails with the paths of the new screenshot and of an image of the
differences under ``test-artifacts/pictures/``; ``MESOSCREEN_UPDATE_BASELINES=1`` accepts the
new pictures instead (look at them first: ``git diff --stat`` lists the changed baselines).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops

BASELINES = Path(__file__).parent / "baselines"
ARTIFACTS = Path(__file__).parents[3] / "test-artifacts" / "pictures"
UPDATE_ENV = "MESOSCREEN_UPDATE_BASELINES"
REGENERATE = f"{UPDATE_ENV}=1 .venv/bin/pytest -q tests/e2e/browser/test_page_pictures.py"
TOLERATED_LEVEL = 48
TOLERATED_SHARE = 0.002
# Baselines are kept in a 256-colour palette (a 6x6x6 colour cube and 40 greys, no
# dithering, so each pixel maps on its own): a tenth of the bytes of full colour, and every
# difference that matters on a page (a moved label, a changed colour) still shows.
_CUBE = [(r * 51, g * 51, b * 51) for r in range(6) for g in range(6) for b in range(6)]
_GREYS = [(round(grey * 255 / 39),) * 3 for grey in range(40)]
_PALETTE: list[int] = [level for colour in _CUBE + _GREYS for level in colour]


def _palette_image() -> Image.Image:
    palette = Image.new("P", (1, 1))
    palette.putpalette(_PALETTE)
    return palette


def kept_form(png: bytes) -> Image.Image:
    """A screenshot as the baselines keep it (half size, the fixed palette), in RGB."""
    with Image.open(io.BytesIO(png)) as shot:
        rgb = shot.convert("RGB").reduce(2)
    return rgb.quantize(palette=_palette_image(), dither=Image.Dither.NONE).convert("RGB")


@dataclass(frozen=True)
class Comparison:
    """How a picture compares with its baseline: why it differs, or None when it matches."""

    difference: str | None


def _save(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(palette=_palette_image(), dither=Image.Dither.NONE).save(path, optimize=True)


def save_illustration(png: bytes, path: Path, width: int = 640, height: int = 800) -> None:
    """The top of a screenshot, ``width`` pixels wide, in the fixed palette (README pictures)."""
    with Image.open(io.BytesIO(png)) as shot:
        rgb = shot.convert("RGB")
    scale = width / rgb.size[0]
    top = rgb.crop((0, 0, rgb.size[0], min(rgb.size[1], round(height / scale))))
    small = top.resize((width, round(top.size[1] * scale)), Image.Resampling.LANCZOS)
    _save(small, path)


def compare_with_baseline(name: str, png: bytes) -> Comparison:
    """Compare the screenshot ``png`` with baseline ``name`` (or rewrite it when updating)."""
    actual = kept_form(png)
    baseline_path = BASELINES / f"{name}.png"
    if os.environ.get(UPDATE_ENV) == "1":
        _save(actual, baseline_path)
        return Comparison(None)
    if not baseline_path.exists():
        return Comparison(
            f"no baseline {baseline_path.relative_to(BASELINES.parents[3])}: look at the page, "
            f"then create it with: {REGENERATE} -k {name}"
        )
    with Image.open(baseline_path) as stored:
        expected = stored.convert("RGB")
    if expected.size != actual.size:
        (width, height), (was_width, was_height) = actual.size, expected.size
        reason = f"size {width}x{height}, baseline {was_width}x{was_height}"
        return Comparison(_report(name, png, None, reason))
    channels = ImageChops.difference(expected, actual).split()
    changed = channels[0].point(lambda level: 255 if level > TOLERATED_LEVEL else 0)
    for channel in channels[1:]:
        changed = ImageChops.lighter(
            changed, channel.point(lambda level: 255 if level > TOLERATED_LEVEL else 0)
        )
    count = changed.histogram()[255]
    share = count / (actual.size[0] * actual.size[1])
    if share <= TOLERATED_SHARE:
        return Comparison(None)
    reason = f"{count} pixels ({share:.2%}) differ, at most {TOLERATED_SHARE:.2%} tolerated"
    return Comparison(_report(name, png, changed, reason))


def _report(name: str, png: bytes, changed: Image.Image | None, reason: str) -> str:
    """Write the new screenshot (and the differences) where a person can look at them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(png)
    where = f"new picture {ARTIFACTS / f'{name}.png'}"
    if changed is not None:
        changed.save(ARTIFACTS / f"{name}.diff.png")
        where += f", differences (at half size) {ARTIFACTS / f'{name}.diff.png'}"
    return (
        f"picture {name} differs from its baseline: {reason}; {where}. If the change is "
        f"meant, accept it with: {REGENERATE} -k {name}"
    )
