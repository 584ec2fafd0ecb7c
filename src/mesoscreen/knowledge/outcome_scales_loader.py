"""Load and validate the outcome measures' scales (``outcomes/outcome_measures.yaml``).

Broken data fails at load with a KnowledgeBaseError naming the file, the measure and the
fault: an unknown or missing measure, an empty range, a reference range outside it, or a
source section that clinical-facts.md does not define.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.domain.knowledge_base import Text
from mesoscreen.domain.outcomes import MeasureScale, OutcomeScales
from mesoscreen.knowledge.loader import DEFAULT_SOURCES_DIR
from mesoscreen.knowledge.planning_loader import cited_sections, validate_document
from mesoscreen.knowledge.schema import TextModel
from mesoscreen.knowledge.yaml_files import read_yaml

DEFAULT_OUTCOME_SCALES = Path(__file__).parent / "outcomes" / "outcome_measures.yaml"
MEASURES = frozenset(
    {"hair_count", "area_cm2", "density_per_cm2", "shaft_thickness_um", "self_assessment"}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ScalePoint(_Strict):
    value: int
    en: str = Field(min_length=1)
    vi: str = Field(min_length=1)


class _Measure(_Strict):
    name: TextModel
    unit: str = Field(min_length=1)
    range: tuple[float, float]
    source: str = Field(min_length=3)
    reference: tuple[float, float] | None = None
    default: float | None = None
    scale: list[_ScalePoint] | None = None


class _Document(_Strict):
    measures: dict[str, _Measure]


def _scale(path: Path, measure_id: str, m: _Measure, sections: frozenset[str]) -> MeasureScale:
    low, high = m.range
    if low >= high:
        raise KnowledgeBaseError(path.name, measure_id, f"range: empty ({low:g} to {high:g})")
    for name, pair in (("reference", m.reference),):
        if pair is not None and not low <= pair[0] < pair[1] <= high:
            raise KnowledgeBaseError(path.name, measure_id, f"{name}: must lie inside the range")
    if m.default is not None and not low <= m.default <= high:
        raise KnowledgeBaseError(path.name, measure_id, "default: must lie inside the range")
    cited = m.source.split(":", 1)[0].strip()
    if cited not in sections:
        raise KnowledgeBaseError(
            path.name, measure_id, f"source: clinical-facts.md has no section {cited!r}"
        )
    labels = None
    if m.scale is not None:
        values = [p.value for p in m.scale]
        if values != list(range(int(low), int(high) + 1)):
            raise KnowledgeBaseError(
                path.name, measure_id, "scale: expected one label per point of the range"
            )
        labels = MappingProxyType({p.value: Text(en=p.en, vi=p.vi) for p in m.scale})
    return MeasureScale(
        id=measure_id, name=Text(en=m.name.en, vi=m.name.vi), unit=m.unit, minimum=low,
        maximum=high, source=m.source, reference=m.reference, default=m.default, labels=labels,
    )  # fmt: skip


def load_outcome_scales(
    path: Path = DEFAULT_OUTCOME_SCALES, sources_dir: Path = DEFAULT_SOURCES_DIR
) -> OutcomeScales:
    """The scales of every outcome measure, checked against each other and their sources."""
    document: _Document = validate_document(path, _Document, read_yaml(path))
    if set(document.measures) != MEASURES:
        missing = sorted(MEASURES - set(document.measures))
        unknown = sorted(set(document.measures) - MEASURES)
        raise KnowledgeBaseError(
            path.name, "measures", f"expected exactly {sorted(MEASURES)} "
            f"(missing {missing}, unknown {unknown})",
        )  # fmt: skip
    sections = cited_sections(sources_dir)
    scales = {key: _scale(path, key, m, sections) for key, m in document.measures.items()}
    return OutcomeScales(MappingProxyType(scales))


@cache
def default_outcome_scales() -> OutcomeScales:
    """The packaged scales, loaded once."""
    return load_outcome_scales()
