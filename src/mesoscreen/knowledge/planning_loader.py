"""Load and validate the planning data: the scalp atlas (zones, stages) and a formulary.

Like the screening knowledge base, broken data fails at load with a KnowledgeBaseError
naming the file, the entry and the fault: overlapping zones, a stage naming an unknown
zone, a product with an unknown ingredient, a figure without its source, a source
section that does not exist in clinical-facts.md.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.domain.knowledge_base import KnowledgeBase, Text
from mesoscreen.domain.planner.formulary import Formulary, Product, Schedule, Technique
from mesoscreen.domain.planner.zones import ScalpAtlas, Stage, Zone, ZonePatch
from mesoscreen.knowledge.loader import DEFAULT_SOURCES_DIR
from mesoscreen.knowledge.schema import TextModel

PLANNING_DIR = Path(__file__).parent / "planning"
DEFAULT_ATLAS = PLANNING_DIR / "scalp_atlas.yaml"
DEFAULT_FORMULARY = PLANNING_DIR / "formulary.yaml"
_SECTION = re.compile(r"\b([A-G]\d{1,2})\b")


class _Strict(BaseModel):
    """Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _ZoneModel(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: TextModel
    patches: list[tuple[float, float, float, float]] = Field(min_length=1)


class _StageModel(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    scale: str
    name: str
    zones: list[str] = Field(min_length=1)
    source: str = Field(min_length=3)


class _AtlasModel(_Strict):
    zones: list[_ZoneModel] = Field(min_length=1)
    stages: list[_StageModel]


class _Figure(_Strict):
    value: Any
    source: str = Field(min_length=3)


class _ScheduleValue(_Strict):
    induction_weeks: list[int] = Field(min_length=1)
    maintenance_interval_weeks: int = Field(ge=1, le=52)
    maintenance_sessions: int = Field(ge=0, le=20)


class _ProductModel(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: TextModel
    ingredients: list[str] = Field(min_length=1)
    concentration: _Figure
    technique: _Figure
    needle: _Figure
    depth_mm: _Figure
    volume_per_point_ml: _Figure
    max_volume_per_session_ml: _Figure
    schedule: _Figure


class _FormularyModel(_Strict):
    review_required: bool
    notice: TextModel
    products: list[_ProductModel] = Field(min_length=1)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, naming it on failure."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeBaseError(path.name, "-", f"cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(path.name, "-", f"is not valid YAML: {exc}") from None


def validate_document(path: Path, model: type[BaseModel], document: Any) -> Any:
    """The document as ``model``; KnowledgeBaseError naming the entry and field otherwise."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first["loc"]]
        entry = "-"
        if len(loc) >= 2 and isinstance(document, dict):
            items = document.get(loc[0])
            if isinstance(items, list) and loc[1].isdigit() and int(loc[1]) < len(items):
                raw = items[int(loc[1])]
                entry = str(raw.get("id", f"#{loc[1]}")) if isinstance(raw, dict) else f"#{loc[1]}"
        raise KnowledgeBaseError(path.name, entry, f"{'.'.join(loc)}: {first['msg']}") from None


def load_atlas(path: Path = DEFAULT_ATLAS) -> ScalpAtlas:
    """The zones and stages; zones may not overlap and stages must name known zones."""
    model: _AtlasModel = validate_document(path, _AtlasModel, read_yaml(path))
    zones: dict[str, Zone] = {}
    for z in model.zones:
        if z.id in zones:
            raise KnowledgeBaseError(path.name, z.id, "duplicate id")
        patches = []
        for t0, t1, p0, p1 in z.patches:
            if not (0 <= t0 < t1 <= 110 and p0 < p1 <= p0 + 360):
                raise KnowledgeBaseError(
                    path.name,
                    z.id,
                    f"bad patch {[t0, t1, p0, p1]}: need 0<=theta0<theta1<=110, phi0<phi1",
                )
            patches.append(ZonePatch(t0, t1, p0, p1))
        zones[z.id] = Zone(z.id, Text(z.name.en, z.name.vi), tuple(patches))
    _check_no_overlap(path, list(zones.values()))
    stages: dict[str, Stage] = {}
    for s in model.stages:
        if s.id in stages:
            raise KnowledgeBaseError(path.name, s.id, "duplicate id")
        for zone_id in s.zones:
            if zone_id not in zones:
                raise KnowledgeBaseError(path.name, s.id, f"unknown zone {zone_id!r}")
        stages[s.id] = Stage(s.id, s.scale, s.name, tuple(s.zones), s.source)
    return ScalpAtlas(zones=MappingProxyType(zones), stages=MappingProxyType(stages))


def _check_no_overlap(path: Path, zones: list[Zone]) -> None:
    """Sample the scalp on a 1-degree grid: no point may fall in two zones."""
    for theta in range(110):
        for phi in range(-180, 180, 2):
            inside = [z.id for z in zones if z.contains(theta + 0.5, phi + 0.5)]
            if len(inside) > 1:
                raise KnowledgeBaseError(
                    path.name,
                    inside[1],
                    f"overlaps zone {inside[0]!r} near theta {theta}, phi {phi}",
                )


def cited_sections(sources_dir: Path) -> frozenset[str]:
    """Section ids (A1, B10, ...) that clinical-facts.md defines: 'A1.' items and numbered
    items under '## B.' style headings."""
    text = (sources_dir / "clinical-facts.md").read_text(encoding="utf-8")
    found = set(re.findall(r"^([A-G]\d{1,2})\.", text, flags=re.MULTILINE))
    current = None
    for line in text.splitlines():
        heading = re.match(r"^## ([A-G])\.", line)
        if heading:
            current = heading.group(1)
            continue
        item = re.match(r"^(\d{1,2})\. ", line)
        if current and item:
            found.add(f"{current}{item.group(1)}")
    return frozenset(found)


def load_formulary(
    path: Path = DEFAULT_FORMULARY,
    kb: KnowledgeBase | None = None,
    sources_dir: Path = DEFAULT_SOURCES_DIR,
) -> Formulary:
    """A formulary whose every figure cites an existing section of clinical-facts.md."""
    model: _FormularyModel = validate_document(path, _FormularyModel, read_yaml(path))
    known_ingredients = {i.id for i in kb.ingredients} if kb is not None else None
    sections = cited_sections(sources_dir)
    products: dict[str, Product] = {}
    for p in model.products:
        if p.id in products:
            raise KnowledgeBaseError(path.name, p.id, "duplicate id")
        if known_ingredients is not None:
            for ingredient in p.ingredients:
                if ingredient not in known_ingredients:
                    raise KnowledgeBaseError(
                        path.name,
                        p.id,
                        f"unknown ingredient {ingredient!r} (not in ingredients.yaml)",
                    )
        figures = {
            "concentration": p.concentration,
            "technique": p.technique,
            "needle": p.needle,
            "depth_mm": p.depth_mm,
            "volume_per_point_ml": p.volume_per_point_ml,
            "max_volume_per_session_ml": p.max_volume_per_session_ml,
            "schedule": p.schedule,
        }
        for field, figure in figures.items():
            cited = _SECTION.findall(figure.source)
            if not cited:
                raise KnowledgeBaseError(
                    path.name, p.id, f"{field}: source cites no section (e.g. 'B10')"
                )
            for section in cited:
                if section not in sections:
                    raise KnowledgeBaseError(
                        path.name, p.id, f"{field}: cites {section}, which clinical-facts.md lacks"
                    )
        products[p.id] = _product(path, p)
    return Formulary(
        products=MappingProxyType(products),
        review_required=model.review_required,
        notice=Text(model.notice.en, model.notice.vi),
    )


def _product(path: Path, p: _ProductModel) -> Product:
    """A product from its validated model, with value checks."""
    try:
        technique = Technique(p.technique.value)
        low, high = (float(v) for v in p.depth_mm.value)
        per_point = float(p.volume_per_point_ml.value)
        maximum = float(p.max_volume_per_session_ml.value)
        schedule = _ScheduleValue.model_validate(p.schedule.value)
    except (ValueError, TypeError, ValidationError) as exc:
        raise KnowledgeBaseError(path.name, p.id, f"bad figure: {exc}") from None
    if not (0 < low <= high <= 13):
        raise KnowledgeBaseError(
            path.name, p.id, f"depth_mm must be 0 < min <= max <= 13 (got {low}, {high})"
        )
    if not (0 < per_point <= 0.5 and 0 < maximum <= 20):
        raise KnowledgeBaseError(
            path.name, p.id, "volumes must be 0 < per point <= 0.5 and 0 < maximum <= 20 mL"
        )
    return Product(
        id=p.id,
        name=Text(p.name.en, p.name.vi),
        ingredients=tuple(p.ingredients),
        concentration=str(p.concentration.value),
        technique=technique,
        needle=str(p.needle.value),
        depth_mm=(low, high),
        volume_per_point_ml=per_point,
        max_volume_per_session_ml=maximum,
        schedule=Schedule(
            tuple(schedule.induction_weeks),
            schedule.maintenance_interval_weeks,
            schedule.maintenance_sessions,
        ),
        sources=MappingProxyType(
            {
                "concentration": p.concentration.source,
                "technique": p.technique.source,
                "needle": p.needle.source,
                "depth_mm": p.depth_mm.source,
                "volume_per_point_ml": p.volume_per_point_ml.source,
                "max_volume_per_session_ml": p.max_volume_per_session_ml.source,
                "schedule": p.schedule.source,
            }
        ),
    )


@cache
def default_atlas() -> ScalpAtlas:
    """The shipped scalp atlas, loaded once."""
    return load_atlas()
