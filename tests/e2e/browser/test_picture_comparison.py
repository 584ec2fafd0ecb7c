"""The picture comparison itself: a moved block fails, antialiasing noise passes, a missing
baseline says how to create it, and accepting on purpose rewrites the baseline."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.e2e.browser import pictures


def _page(block_left: int, noise: int = 0) -> bytes:
    image = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((block_left, 40, block_left + 120, 90), fill=(0, 51, 102))
    for x in range(noise):
        image.putpixel((10 + 4 * x, 200), (0, 0, 0))  # dark specks, each its own half-pixel
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def baselines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Baselines and artifacts in a folder of the test's own."""
    folder = tmp_path / "tests" / "e2e" / "browser" / "baselines"
    monkeypatch.setattr(pictures, "BASELINES", folder)
    monkeypatch.setattr(pictures, "ARTIFACTS", tmp_path / "artifacts")
    monkeypatch.delenv(pictures.UPDATE_ENV, raising=False)
    return folder


def _accept_baseline(monkeypatch: pytest.MonkeyPatch, png: bytes) -> None:
    """Keep ``png`` as the baseline of "p" on purpose, as `make baselines` does."""
    monkeypatch.setenv(pictures.UPDATE_ENV, "1")
    pictures.compare_with_baseline("p", png)
    monkeypatch.delenv(pictures.UPDATE_ENV)


def test_a_missing_baseline_fails_with_the_command_that_creates_it(baselines: Path) -> None:
    """The first run of a new page fails and says how to accept its picture."""
    difference = pictures.compare_with_baseline("today-en-1280", _page(20)).difference
    assert difference is not None
    assert "MESOSCREEN_UPDATE_BASELINES=1" in difference
    assert "-k today-en-1280" in difference


def test_an_accepted_picture_matches_and_small_noise_is_tolerated(
    baselines: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After accepting, the same page matches, and so does one with a few dark specks."""
    monkeypatch.setenv(pictures.UPDATE_ENV, "1")
    assert pictures.compare_with_baseline("p", _page(20)).difference is None
    assert (baselines / "p.png").exists()
    monkeypatch.delenv(pictures.UPDATE_ENV)
    assert pictures.compare_with_baseline("p", _page(20)).difference is None
    assert pictures.compare_with_baseline("p", _page(20, noise=40)).difference is None


def test_a_moved_block_fails_and_leaves_the_new_picture_and_its_differences(
    baselines: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A label moved by 30 pixels is a difference, written where a person can look."""
    _accept_baseline(monkeypatch, _page(20))
    difference = pictures.compare_with_baseline("p", _page(50)).difference
    assert difference is not None
    assert "pixels" in difference
    assert (pictures.ARTIFACTS / "p.png").exists()
    assert (pictures.ARTIFACTS / "p.diff.png").exists()


def test_a_page_of_another_height_fails_naming_both_sizes(
    baselines: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that grew is a difference even when its top is the same."""
    _accept_baseline(monkeypatch, _page(20))
    taller = Image.new("RGB", (400, 340), "white")
    buffer = io.BytesIO()
    taller.save(buffer, "PNG")
    difference = pictures.compare_with_baseline("p", buffer.getvalue()).difference
    assert difference is not None
    assert "size 200x170, baseline 200x150" in difference
