"""Load and validate the value sets that map FHIR record codes to intake facts.

``valuesets/record_facts.yaml`` says which resources show which fact and how recent they must
be; ``valuesets/<question>.yaml`` holds the fact's codes with their provenance (published
value set URL, OID, version, expansion date). This module only checks and indexes them: every
fact names a question of the knowledge base and has its code file, every source is named,
every RxNorm code maps to an ingredient of the file, the examples an intake question shows
are ingredients of its value set and named in its text, every allergen maps to a catalogue
ingredient. Broken data fails at load with a KnowledgeBaseError naming the file, the entry
and the fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.domain.knowledge_base import KnowledgeBase
from mesoscreen.knowledge.yaml_files import read_yaml

VALUESETS_DIR = Path(__file__).parent / "valuesets"
DEFAULT_VALUESETS = VALUESETS_DIR / "record_facts.yaml"
RESOURCE_TYPES = ("Condition", "Observation", "MedicationStatement", "MedicationRequest")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Codes(_Strict):
    snomed: list[str] = Field(default_factory=list)
    loinc: list[str] = Field(default_factory=list)


class _Values(_Strict):
    snomed: list[str] = Field(default_factory=list)
    loinc: list[str] = Field(default_factory=list)
    v2_yes_no: list[Literal["Y", "N"]] = Field(default_factory=list)
    boolean: bool | None = None


class _Fact(_Strict):
    question: str
    resources: list[Literal["Condition", "Observation", "MedicationStatement", "MedicationRequest"]]
    period: Literal["history", "current"]
    within_days: int | None = Field(default=None, gt=0, le=3650)
    observation: _Codes | None = None
    values: _Values | None = None
    hints: list[str] = Field(default_factory=list)


class _Systems(_Strict):
    snomed: str
    icd10: list[str] = Field(min_length=1)
    loinc: str
    rxnorm: str
    atc: list[str] = Field(min_length=1)
    v2_yes_no: str


class _File(_Strict):
    version: str
    systems: _Systems
    qualifiers: list[str]
    facts: list[_Fact]
    allergen_codes: dict[Literal["rxnorm", "snomed"], dict[str, str]]


class _Source(_Strict):
    title: str
    url: str | None = None
    oid: str | None = None
    version: str | None = None
    expansion_date: str | None = None
    retrieved_from: str | None = None
    taken: str


class _Ingredient(_Strict):
    drug_class: Literal["anticoagulant", "antiplatelet", "insulin"] = Field(alias="class")
    names: list[str] = Field(min_length=1)


class _Expansion(_Strict):
    scope: str
    out_of_scope: str
    sources: list[_Source] = Field(min_length=1)
    snomed_roots: list[str] = Field(default_factory=list)
    icd10_prefixes: list[str] = Field(default_factory=list)
    snomed: list[str] = Field(default_factory=list)
    curated_snomed: dict[str, str] = Field(default_factory=dict)
    ingredients: dict[str, _Ingredient] = Field(default_factory=dict)
    rxnorm: dict[str, str] = Field(default_factory=dict)
    atc_prefixes: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a fact's codes come from: a published value set, or a curated list."""

    title: str
    url: str | None
    oid: str | None
    version: str | None
    expansion_date: str | None


@dataclass(frozen=True, slots=True)
class FactCodes:
    """Which resources and codes show one intake fact (set to ``yes`` when found)."""

    question: str
    resources: frozenset[str]
    history: bool
    within_days: int | None
    codes: frozenset[tuple[str, str]]
    prefixes: tuple[tuple[str, tuple[str, ...]], ...]
    observation_codes: frozenset[tuple[str, str]]
    value_codes: frozenset[tuple[str, str]]
    value_boolean: bool | None
    names: tuple[str, ...]
    hints: tuple[str, ...] = ()
    snomed_roots: tuple[str, ...] = ()
    ingredients: tuple[tuple[str, str], ...] = ()  # (ingredient, drug class)
    sources: tuple[Provenance, ...] = ()
    scope: str = ""
    out_of_scope: str = ""


@dataclass(frozen=True, slots=True)
class RecordValueSets:
    """Every fact a record can show, the coded allergens, and the words that qualify text."""

    version: str
    facts: tuple[FactCodes, ...]
    allergen_codes: MappingProxyType[tuple[str, str], str]
    qualifiers: tuple[str, ...] = ()
    icd10_systems: tuple[str, ...] = ()


def normalise_icd10(code: str) -> str:
    """An ICD-10 code as the prefixes are written: upper case, no dot, no marks (``+*!†``)."""
    plain = code.upper().replace(".", "")
    return plain if plain.isalnum() else re.sub(r"[^0-9A-Z]", "", plain)


def _model(model: type[BaseModel], document: object, name: str) -> Any:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise KnowledgeBaseError(name, where, first["msg"]) from None


def _check_examples(name: str, question: Any, expansion: _Expansion) -> None:
    """The examples a question shows are ingredients of its value set, named in its text."""
    for example in expansion.examples:
        if example not in expansion.ingredients:
            raise KnowledgeBaseError(name, f"examples.{example}", "not an ingredient of this file")
        for language, text in question.text.as_dict().items():
            if example not in str(text).lower():
                raise KnowledgeBaseError(
                    name, f"examples.{example}",
                    f"the question's {language} text does not name it",
                )  # fmt: skip


def load_value_sets(kb: KnowledgeBase, path: Path = DEFAULT_VALUESETS) -> RecordValueSets:
    """The value sets in ``path`` and its folder, checked against ``kb``."""
    name = path.name
    model: _File = _model(_File, read_yaml(path), name)
    systems = model.systems
    questions = {q.id: q for q in kb.questions}
    ingredients = {i.id for i in kb.ingredients}
    facts = []
    for fact in model.facts:
        if fact.question not in questions:
            raise KnowledgeBaseError(name, fact.question, "not a question of the knowledge base")
        if "Observation" in fact.resources and (fact.observation is None or fact.values is None):
            raise KnowledgeBaseError(
                name, fact.question, "Observation needs observation and values"
            )
        codes_path = path.parent / f"{fact.question}.yaml"
        codes_name = codes_path.name
        expansion: _Expansion = _model(_Expansion, read_yaml(codes_path), codes_name)
        for code, ingredient in expansion.rxnorm.items():
            if ingredient not in expansion.ingredients:
                raise KnowledgeBaseError(codes_name, f"rxnorm.{code}",
                                         f"unknown ingredient {ingredient!r}")  # fmt: skip
        _check_examples(codes_name, questions[fact.question], expansion)
        codes = {(systems.snomed, c) for c in expansion.snomed}
        codes |= {(systems.snomed, c) for c in expansion.curated_snomed}
        codes |= {(systems.rxnorm, c) for c in expansion.rxnorm}
        icd10 = tuple(normalise_icd10(p) for p in expansion.icd10_prefixes)
        atc = tuple(p.upper() for p in expansion.atc_prefixes)
        prefixes = tuple((s, icd10) for s in systems.icd10 if icd10) + tuple(
            (s, atc) for s in systems.atc if atc
        )
        observation = fact.observation or _Codes()
        values = fact.values or _Values()
        medication = {"MedicationStatement", "MedicationRequest"} & set(fact.resources)
        names = [n for i in expansion.ingredients.values() for n in i.names] if medication else []
        facts.append(
            FactCodes(
                question=fact.question,
                resources=frozenset(fact.resources),
                history=fact.period == "history",
                within_days=fact.within_days,
                codes=frozenset(codes),
                prefixes=prefixes,
                observation_codes=frozenset(
                    {(systems.loinc, c) for c in observation.loinc}
                    | {(systems.snomed, c) for c in observation.snomed}
                ),
                value_codes=frozenset(
                    {(systems.loinc, c) for c in values.loinc}
                    | {(systems.snomed, c) for c in values.snomed}
                    | {(systems.v2_yes_no, c) for c in values.v2_yes_no}
                ),
                value_boolean=values.boolean,
                names=tuple(n.lower() for n in names),
                hints=tuple(h.lower() for h in fact.hints),
                snomed_roots=tuple(expansion.snomed_roots),
                ingredients=tuple((k, v.drug_class) for k, v in expansion.ingredients.items()),
                sources=tuple(
                    Provenance(s.title, s.url, s.oid, s.version, s.expansion_date)
                    for s in expansion.sources
                ),
                scope=expansion.scope,
                out_of_scope=expansion.out_of_scope,
            )
        )
    allergens: dict[tuple[str, str], str] = {}
    uris = {"rxnorm": systems.rxnorm, "snomed": systems.snomed}
    for system_key, mapping in model.allergen_codes.items():
        for code, ingredient in mapping.items():
            if ingredient not in ingredients:
                raise KnowledgeBaseError(name, f"allergen_codes.{system_key}.{code}",
                                         f"unknown ingredient {ingredient!r}")  # fmt: skip
            allergens[(uris[system_key], code)] = ingredient
    return RecordValueSets(
        model.version,
        tuple(facts),
        MappingProxyType(allergens),
        tuple(q.lower() for q in model.qualifiers),
        tuple(systems.icd10),
    )


@cache
def default_value_sets() -> RecordValueSets:
    """The shipped value sets against the shipped knowledge base, loaded once per process."""
    from mesoscreen.knowledge import default_knowledge_base

    return load_value_sets(default_knowledge_base())
