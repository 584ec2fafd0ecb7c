"""Load and validate the planning data: the scalp atlas (zones, stages) and a formulary.

Like the screening knowledge base, broken data fails at load with a KnowledgeBaseError
naming the file, the entry and the fault: overlapping zones, a stage naming an unknown
zone, a product with an unknown ingredient, a figure without its source, a quote that
does not stand word for word in the clinical-facts.md section it cites, a product with a
concentration but no dose cap, a default outside the product's own caps.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.domain.knowledge_base import KnowledgeBase, Text
from mesoscreen.domain.planner.doses import Caps, Concentration, DoseUnit
from mesoscreen.domain.planner.formulary import Formulary, Product, Schedule, Technique
from mesoscreen.domain.planner.zones import ScalpAtlas, Stage, Zone, ZonePatch
from mesoscreen.knowledge.facts_citations import (
    SourceModel,
    check_source,
    section_texts,
    source_reference,
    source_text,
)
from mesoscreen.knowledge.loader import DEFAULT_SOURCES_DIR
from mesoscreen.knowledge.schema import TextModel
from mesoscreen.knowledge.yaml_files import read_yaml

PLANNING_DIR = Path(__file__).parent / "planning"
DEFAULT_ATLAS = PLANNING_DIR / "scalp_atlas.yaml"
DEFAULT_FORMULARY = PLANNING_DIR / "formulary.yaml"
_CONCENTRATION_UNITS = {"mg/mL": DoseUnit.MG, "IU/mL": DoseUnit.IU}


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
    name: TextModel
    zones: list[str] = Field(min_length=1)
    source: str = Field(min_length=3)


class _AtlasModel(_Strict):
    zones: list[_ZoneModel] = Field(min_length=1)
    stages: list[_StageModel]


class _Figure(_Strict):
    value: Any
    source: SourceModel


class _ScheduleValue(_Strict):
    induction_weeks: list[int] = Field(min_length=1)
    maintenance_interval_weeks: int = Field(ge=1, le=52)
    maintenance_sessions: int = Field(ge=0, le=20)


class _ConcentrationValue(_Strict):
    label: str = Field(min_length=1)
    amount_per_ml: float | None = Field(gt=0)
    unit: str | None
    known: str = ""


class _DoseValue(_Strict):
    amount: float = Field(gt=0)
    unit: str


class _ProductModel(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: TextModel
    ingredients: list[str] = Field(min_length=1)
    concentration: _Figure
    technique: _Figure
    needle: _Figure
    depth_mm: _Figure
    volume_per_point_ml: _Figure
    max_volume_per_point_ml: _Figure
    max_volume_per_session_ml: _Figure
    max_dose_per_session: _Figure
    schedule: _Figure

    def figures(self) -> dict[str, _Figure]:
        """Every sourced figure of the product by field name."""
        return {
            name: getattr(self, name)
            for name in type(self).model_fields
            if isinstance(getattr(self, name), _Figure)
        }


class _FormularyModel(_Strict):
    review_required: bool
    notice: TextModel
    products: list[_ProductModel] = Field(min_length=1)


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
        stages[s.id] = Stage(s.id, s.scale, Text(s.name.en, s.name.vi), tuple(s.zones), s.source)
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
    return frozenset(section_texts(sources_dir))


def load_formulary(
    path: Path = DEFAULT_FORMULARY,
    kb: KnowledgeBase | None = None,
    sources_dir: Path = DEFAULT_SOURCES_DIR,
) -> Formulary:
    """A formulary whose every figure has a supported source (a quote that stands in the
    clinical-facts.md section it cites, or a stated clinic practice) and whose defaults lie
    within its own caps."""
    document = read_yaml(path)
    model: _FormularyModel = validate_document(path, _FormularyModel, document)
    known_ingredients = {i.id for i in kb.ingredients} if kb is not None else None
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
        for field, figure in p.figures().items():
            if figure.source.not_applicable is not None and field != "max_dose_per_session":
                raise KnowledgeBaseError(
                    path.name, p.id, f"{field}: only a dose cap may be 'not_applicable'"
                )
            check_source(path.name, p.id, field, figure.source, sources_dir)
        products[p.id] = _product(path, p)
    digest = hashlib.sha256(path.read_bytes())
    digest.update((sources_dir / "clinical-facts.md").read_bytes())
    return Formulary(
        products=MappingProxyType(products),
        review_required=model.review_required,
        notice=Text(model.notice.en, model.notice.vi),
        content_hash="sha256:" + digest.hexdigest(),
    )


def _concentration(path: Path, p: _ProductModel) -> tuple[Concentration, float | None]:
    """The concentration and the dose cap; a product with an amount per mL needs a dose cap
    in the matching unit, a mixture says what is known and has none."""
    try:
        value = _ConcentrationValue.model_validate(p.concentration.value)
        dose = (
            None
            if p.max_dose_per_session.value is None
            else _DoseValue.model_validate(p.max_dose_per_session.value)
        )
    except ValidationError as exc:
        raise KnowledgeBaseError(path.name, p.id, f"bad figure: {exc.errors()[0]['msg']}") from None
    if value.amount_per_ml is None:
        if value.unit is not None or not value.known.strip():
            raise KnowledgeBaseError(
                path.name,
                p.id,
                "concentration: a mixture without an amount per mL has no unit and must say "
                "what is known ('known') and how the caps apply",
            )
        if dose is not None or p.max_dose_per_session.source.not_applicable is None:
            raise KnowledgeBaseError(
                path.name,
                p.id,
                "max_dose_per_session: a mixture has no dose cap (expected value null with "
                "source not_applicable)",
            )
        return Concentration(value.label, None, None, value.known), None
    unit = _CONCENTRATION_UNITS.get(value.unit or "")
    if unit is None:
        raise KnowledgeBaseError(
            path.name,
            p.id,
            f"concentration: unit must be one of {', '.join(_CONCENTRATION_UNITS)} "
            f"(got {value.unit!r})",
        )
    if dose is None:
        raise KnowledgeBaseError(
            path.name,
            p.id,
            "max_dose_per_session: a product with an amount per mL needs a dose cap "
            f"in {unit.value}",
        )
    if dose.unit != unit.value:
        raise KnowledgeBaseError(
            path.name,
            p.id,
            f"max_dose_per_session: unit must be {unit.value}, as the concentration's "
            f"(got {dose.unit!r})",
        )
    return Concentration(value.label, value.amount_per_ml, unit, value.known), dose.amount


def _product(path: Path, p: _ProductModel) -> Product:
    """A product from its validated model, with value checks."""
    concentration, dose_cap = _concentration(path, p)
    try:
        technique = Technique(p.technique.value)
        low, high = (float(v) for v in p.depth_mm.value)
        per_point = float(p.volume_per_point_ml.value)
        per_point_cap = float(p.max_volume_per_point_ml.value)
        maximum = float(p.max_volume_per_session_ml.value)
        schedule = _ScheduleValue.model_validate(p.schedule.value)
    except (ValueError, TypeError, ValidationError) as exc:
        raise KnowledgeBaseError(path.name, p.id, f"bad figure: {exc}") from None
    if not (0 < low <= high <= 13):
        raise KnowledgeBaseError(
            path.name, p.id, f"depth_mm must be 0 < min <= max <= 13 (got {low}, {high})"
        )
    if not (0 < per_point <= per_point_cap <= 0.5 and 0 < maximum <= 20):
        raise KnowledgeBaseError(
            path.name,
            p.id,
            "volumes must be 0 < per point <= maximum per point <= 0.5 and "
            "0 < maximum per session <= 20 mL",
        )
    figures = p.figures()
    return Product(
        id=p.id,
        name=Text(p.name.en, p.name.vi),
        ingredients=tuple(p.ingredients),
        concentration=concentration,
        technique=technique,
        needle=str(p.needle.value),
        volume_per_point_ml=per_point,
        caps=Caps(
            volume_per_point_ml=per_point_cap,
            volume_per_session_ml=maximum,
            dose_per_session=dose_cap,
            depth_mm=(low, high),
        ),
        schedule=Schedule(
            tuple(schedule.induction_weeks),
            schedule.maintenance_interval_weeks,
            schedule.maintenance_sessions,
        ),
        sources=MappingProxyType({f: source_text(fig.source) for f, fig in figures.items()}),
        source_refs=MappingProxyType(
            {f: source_reference(fig.source) for f, fig in figures.items()}
        ),
    )


@cache
def default_atlas() -> ScalpAtlas:
    """The shipped scalp atlas, loaded once."""
    return load_atlas()


@cache
def default_formulary(kb: KnowledgeBase) -> Formulary:
    """The shipped formulary checked against ``kb``'s ingredients, loaded once per base."""
    return load_formulary(kb=kb)
