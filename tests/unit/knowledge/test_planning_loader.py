"""The planning data validator: a broken atlas or formulary fails at load, saying where."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import (
    DEFAULT_ATLAS,
    DEFAULT_FORMULARY,
    load_atlas,
    load_formulary,
)

KB = default_knowledge_base()


def _broken(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    """A copy of ``source`` with the first ``old`` replaced, which must be there."""
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    target = tmp_path / source.name
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_the_shipped_atlas_and_formulary_load_and_cite_their_sources() -> None:
    """Six or more zones, every stage scale, every figure with a clinical-facts section."""
    atlas = load_atlas()
    assert {
        "frontal",
        "mid_scalp",
        "vertex",
        "left_temporal",
        "right_temporal",
        "occipital",
    } <= set(atlas.zones)
    assert {s.scale for s in atlas.stages.values()} == {"Norwood-Hamilton", "Ludwig", "Savin"}
    formulary = load_formulary(kb=KB)
    assert formulary.review_required
    for product in formulary.products.values():
        assert set(product.sources) >= {"depth_mm", "volume_per_point_ml", "schedule"}


@pytest.mark.parametrize(
    ("old", "new", "entry", "problem"),
    [
        ("patches: [[12, 40, -50, 50]]", "patches: [[30, 50, -50, 50]]", "mid_scalp",
         "overlaps zone 'mid_scalp'"),
        ("patches: [[12, 40, -50, 50]]", "patches: [[40, 12, -50, 50]]", "mid_scalp",
         "bad patch"),
        ("zones: [frontal]", "zones: [forehead]", "norwood-1", "unknown zone 'forehead'"),
        ("- id: mid_scalp", "- id: frontal", "frontal", "duplicate id"),
        ("name: {en: \"Frontal\", vi: \"Vùng trán\"}", "name: {en: \"Frontal\"}", "frontal",
         "vi"),
    ],
)  # fmt: skip
def test_a_broken_atlas_names_the_entry_and_the_fault(
    tmp_path: Path, old: str, new: str, entry: str, problem: str
) -> None:
    """Overlaps, inverted patches, stages naming unknown zones, duplicates, missing texts."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_atlas(_broken(tmp_path, DEFAULT_ATLAS, old, new))
    assert caught.value.file == "scalp_atlas.yaml"
    assert entry in str(caught.value)
    assert problem in caught.value.problem


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("ingredients: [dutasteride]", "ingredients: [snake_oil]", "unknown ingredient"),
        ('source: "B10: 2 mL per session (Moftah 2013)"', 'source: "Moftah 2013"',
         "max_volume_per_session_ml: source cites no section"),
        ('source: "B10: 2 mL per session (Moftah 2013)"', 'source: "G99: Moftah 2013"',
         "cites G99, which clinical-facts.md lacks"),
        ("depth_mm: {value: [1.5, 2.0]", "depth_mm: {value: [2.5, 2.0]", "depth_mm must be"),
        ("max_volume_per_session_ml: {value: 2.0", "max_volume_per_session_ml: {value: 50",
         "volumes must be"),
    ],
)  # fmt: skip
def test_a_broken_formulary_names_the_product_and_the_fault(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    """Unknown ingredients, unsourced figures, phantom sections, impossible depths and volumes."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_formulary(_broken(tmp_path, DEFAULT_FORMULARY, old, new), KB)
    assert caught.value.entry == "dutasteride_0_01"
    assert problem in caught.value.problem


def test_a_missing_or_unparsable_file_is_named(tmp_path: Path) -> None:
    """Unreadable and non-YAML files fail with the file's name."""
    with pytest.raises(KnowledgeBaseError, match=r"absent\.yaml.*cannot be read"):
        load_atlas(tmp_path / "absent.yaml")
    bad = tmp_path / "formulary.yaml"
    shutil.copy(DEFAULT_FORMULARY, bad)
    bad.write_text("products: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="not valid YAML"):
        load_formulary(bad, KB)
