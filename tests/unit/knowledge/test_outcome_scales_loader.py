"""The outcome scales file: the packaged one loads; broken ones fail naming file and measure."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.knowledge.outcome_scales_loader import DEFAULT_OUTCOME_SCALES, load_outcome_scales


def test_the_packaged_scales_load_with_their_sources() -> None:
    """Density carries the normal range of clinical-facts E6; self-assessment has 7 labels."""
    scales = load_outcome_scales()
    assert scales["density_per_cm2"].reference == (175.0, 300.0)
    assert scales["density_per_cm2"].source.startswith("E6")
    labels = scales["self_assessment"].labels
    assert labels is not None
    assert sorted(labels) == list(range(-3, 4))
    assert scales["area_cm2"].default == 1.0


def _broken(tmp_path: Path, change: str) -> Path:
    document = yaml.safe_load(DEFAULT_OUTCOME_SCALES.read_text(encoding="utf-8"))
    measures = document["measures"]
    if change == "unknown-section":
        measures["hair_count"]["source"] = "Z9: nowhere"
    elif change == "reference-outside":
        measures["density_per_cm2"]["reference"] = [175, 900]
    elif change == "empty-range":
        measures["shaft_thickness_um"]["range"] = [200, 10]
    elif change == "label-missing":
        measures["self_assessment"]["scale"].pop()
    elif change == "missing-measure":
        del measures["area_cm2"]
    path = tmp_path / "outcome_measures.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "entry"),
    [
        ("unknown-section", "hair_count"),
        ("reference-outside", "density_per_cm2"),
        ("empty-range", "shaft_thickness_um"),
        ("label-missing", "self_assessment"),
        ("missing-measure", "measures"),
    ],
)
def test_a_broken_scales_file_fails_at_load_naming_the_measure(
    tmp_path: Path, change: str, entry: str
) -> None:
    """Every fault names the file and the measure it is in."""
    with pytest.raises(KnowledgeBaseError) as raised:
        load_outcome_scales(_broken(tmp_path, change))
    assert "outcome_measures.yaml" in str(raised.value)
    assert entry in str(raised.value)
