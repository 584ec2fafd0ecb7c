"""The planning data validator: a broken atlas or formulary fails at load, saying where."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.facts_citations import section_texts
from mesoscreen.knowledge.loader import DEFAULT_SOURCES_DIR
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
        ('- {section: B10, quote: "Each session was 2 mL of a preparation containing 0.5 mg '
         'dutasteride"}\n    max_dose', "[]\n    max_dose",
         "max_volume_per_session_ml: source cites no section"),
        ("{section: B10, quote: \"Each session", "{section: G99, quote: \"Each session",
         "cites G99, which clinical-facts.md lacks"),
        ("depth_mm:\n      value: [1.5, 2.0]", "depth_mm:\n      value: [2.5, 2.0]",
         "depth_mm must be"),
        ("max_volume_per_session_ml:\n      value: 2.0",
         "max_volume_per_session_ml:\n      value: 50", "volumes must be"),
        ("volume_per_point_ml:\n      value: 0.01", "volume_per_point_ml:\n      value: 0.2",
         "per point <= maximum per point"),
        # The figures the review found unsupported, cited the old way, are refused.
        ('{section: B12, quote: "0.5–1 mg monthly via 4 mm 30G"}',
         '{section: B5, quote: "30G 4 mm"}',
         "needle: the quote '30G 4 mm' is not found word for word in section B5"),
        ('{section: B3, quote: "Micropapules go 1.5–2 mm deep"}',
         '{section: B4, quote: "nappage 1–2 mm deep"}',
         "depth_mm: the quote 'nappage 1–2 mm deep' is not found word for word in section B4"),
        ('{section: B9, quote: "1 mL of 0.01% is 0.1 mg"}',
         '{section: B10, quote: "1 mL of 0.01% is 0.1 mg"}',
         "is not found word for word in section B10"),
        ("value: {amount: 0.5, unit: mg}", "value: null", "needs a dose cap in mg"),
        ("value: {amount: 0.5, unit: mg}", "value: {amount: 0.5, unit: IU}", "unit must be mg"),
        ("unit: mg/mL}\n      source:\n        cite:\n          - {section: B9",
         "unit: mg}\n      source:\n        cite:\n          - {section: B9",
         "unit must be one of mg/mL, IU/mL"),
        ("        note: \"the highest",
         "        not_applicable: \"none\"\n        note: \"the highest",
         "max_dose_per_session: 'not_applicable' stands alone"),
    ],
)  # fmt: skip
def test_a_broken_formulary_names_the_product_and_the_fault(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    """Unknown ingredients, unsourced or misquoted figures, phantom sections, impossible
    depths and volumes, doses without caps or in the wrong unit."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_formulary(_broken(tmp_path, DEFAULT_FORMULARY, old, new), KB)
    assert caught.value.entry == "dutasteride_0_01"
    assert problem in caught.value.problem


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('value:\n        label: "ready to use"\n        amount_per_ml: null\n        unit: null',
         'value:\n        label: "ready to use"\n        amount_per_ml: null\n        unit: mg/mL',
         "a mixture without an amount per mL has no unit"),
        ("    max_dose_per_session:\n      value: null\n      source:\n        not_applicable: "
         "\"a mixture",
         "    max_dose_per_session:\n      value: {amount: 1, unit: mg}\n      source:\n"
         "        not_applicable: \"a mixture",
         "a mixture has no dose cap"),
        ('clinic_practice: "nappage is the clinic', 'not_applicable: "nappage is the clinic',
         "technique: only a dose cap may be 'not_applicable'"),
    ],
)  # fmt: skip
def test_a_mixture_says_what_is_known_and_has_only_volume_caps(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    """A ready-to-use product has no unit and no dose cap; 'not applicable' is for that only."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_formulary(_broken(tmp_path, DEFAULT_FORMULARY, old, new), KB)
    assert caught.value.entry == "multivitamin_complex"
    assert problem in caught.value.problem


def test_every_shipped_figure_quotes_its_section_or_says_clinic_practice() -> None:
    """Each product has a concentration and caps; each source line shows a quoted passage or
    'no source: clinic practice' (or 'not applicable' for a mixture's dose cap)."""
    formulary = load_formulary(kb=KB)
    for product in formulary.products.values():
        assert set(product.sources) == {
            "concentration", "technique", "needle", "depth_mm", "volume_per_point_ml",
            "max_volume_per_point_ml", "max_volume_per_session_ml", "max_dose_per_session",
            "schedule",
        }  # fmt: skip
        for field, text in product.sources.items():
            assert (
                '"' in text
                or "no source: clinic practice" in text
                or (field == "max_dose_per_session" and text.startswith("not applicable"))
            ), (product.id, field, text)
        if product.concentration.amount_per_ml is None:
            assert product.caps.dose_per_session is None
            assert product.concentration.known
        else:
            assert product.caps.dose_per_session is not None
    minoxidil = formulary.products["minoxidil_0_5"]
    assert minoxidil.concentration.amount_per_ml == 5.0
    assert minoxidil.caps.dose_per_session == 5.0
    assert minoxidil.source_refs["max_dose_per_session"] == "no source: clinic practice"
    assert formulary.content_hash.startswith("sha256:")


def test_a_missing_or_unparsable_file_is_named(tmp_path: Path) -> None:
    """Unreadable and non-YAML files fail with the file's name."""
    with pytest.raises(KnowledgeBaseError, match=r"absent\.yaml.*cannot be read"):
        load_atlas(tmp_path / "absent.yaml")
    bad = tmp_path / "formulary.yaml"
    shutil.copy(DEFAULT_FORMULARY, bad)
    bad.write_text("products: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="not valid YAML"):
        load_formulary(bad, KB)


def test_sections_are_read_whole_and_unnumbered_lists_open_no_section() -> None:
    """F1 is the postpartum item, not the first of the 'five most authoritative sources'."""
    sections = section_texts(DEFAULT_SOURCES_DIR)
    assert sections["F1"].startswith("Postpartum: shedding starts")
    assert sections["B10"].startswith("Abdallah schedule")
    assert "0.5 mg dutasteride" in sections["B10"]
    assert {"A1", "B17", "C10", "D12", "E7", "F6", "G1"} <= set(sections)
