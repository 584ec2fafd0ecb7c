"""Load and validate the value sets that map FHIR record codes to intake facts.

The data file (``valuesets/record_facts.yaml``) says which codes show which fact; this module
only checks it: every fact names a question of the knowledge base, every system is declared,
every allergen maps to a catalogue ingredient. Broken data fails at load with a
KnowledgeBaseError naming the file, the entry and the fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.domain.knowledge_base import KnowledgeBase

DEFAULT_VALUESETS = Path(__file__).parent / "valuesets" / "record_facts.yaml"
RESOURCE_TYPES = ("Condition", "Observation", "MedicationStatement", "MedicationRequest")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Codes(_Strict):
    snomed: list[str] = Field(default_factory=list)
    icd10cm_prefixes: list[str] = Field(default_factory=list)
    loinc: list[str] = Field(default_factory=list)
    rxnorm: list[str] = Field(default_factory=list)


class _Values(_Strict):
    snomed: list[str] = Field(default_factory=list)
    loinc: list[str] = Field(default_factory=list)
    boolean: bool | None = None


class _Fact(_Strict):
    question: str
    resources: list[Literal["Condition", "Observation", "MedicationStatement", "MedicationRequest"]]
    period: Literal["history", "current"]
    within_days: int | None = Field(default=None, gt=0, le=3650)
    codes: _Codes = Field(default_factory=_Codes)
    observation: _Codes | None = None
    values: _Values | None = None
    names: list[str] = Field(default_factory=list)


class _File(_Strict):
    version: str
    systems: dict[Literal["snomed", "icd10cm", "loinc", "rxnorm"], str]
    facts: list[_Fact]
    allergen_codes: dict[Literal["rxnorm", "snomed"], dict[str, str]]


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


@dataclass(frozen=True, slots=True)
class RecordValueSets:
    """Every fact a record can show, and the coded allergens."""

    version: str
    facts: tuple[FactCodes, ...]
    allergen_codes: MappingProxyType[tuple[str, str], str]


def load_value_sets(kb: KnowledgeBase, path: Path = DEFAULT_VALUESETS) -> RecordValueSets:
    """The value sets in ``path``, checked against the questions and ingredients of ``kb``."""
    name = path.name
    try:
        document: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeBaseError(name, "-", f"cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(name, "-", f"is not valid YAML: {exc}") from None
    try:
        model = _File.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise KnowledgeBaseError(name, where, first["msg"]) from None
    systems = model.systems
    for needed in ("snomed", "icd10cm", "loinc", "rxnorm"):
        if needed not in systems:
            raise KnowledgeBaseError(name, "systems", f"missing the {needed} system URI")
    questions = {q.id for q in kb.questions}
    ingredients = {i.id for i in kb.ingredients}
    facts = []
    for fact in model.facts:
        if fact.question not in questions:
            raise KnowledgeBaseError(name, fact.question, "not a question of the knowledge base")
        if "Observation" in fact.resources and (fact.observation is None or fact.values is None):
            raise KnowledgeBaseError(
                name, fact.question, "Observation needs observation and values"
            )
        codes = {(systems["snomed"], c) for c in fact.codes.snomed}
        codes |= {(systems["rxnorm"], c) for c in fact.codes.rxnorm}
        codes |= {(systems["loinc"], c) for c in fact.codes.loinc}
        observation = fact.observation or _Codes()
        values = fact.values or _Values()
        facts.append(
            FactCodes(
                question=fact.question,
                resources=frozenset(fact.resources),
                history=fact.period == "history",
                within_days=fact.within_days,
                codes=frozenset(codes),
                prefixes=(
                    ((systems["icd10cm"], tuple(p.upper() for p in fact.codes.icd10cm_prefixes)),)
                    if fact.codes.icd10cm_prefixes
                    else ()
                ),
                observation_codes=frozenset(
                    {(systems["loinc"], c) for c in observation.loinc}
                    | {(systems["snomed"], c) for c in observation.snomed}
                ),
                value_codes=frozenset(
                    {(systems["loinc"], c) for c in values.loinc}
                    | {(systems["snomed"], c) for c in values.snomed}
                ),
                value_boolean=values.boolean,
                names=tuple(n.lower() for n in fact.names),
            )
        )
    allergens: dict[tuple[str, str], str] = {}
    for system_key, mapping in model.allergen_codes.items():
        for code, ingredient in mapping.items():
            if ingredient not in ingredients:
                raise KnowledgeBaseError(name, f"allergen_codes.{system_key}.{code}",
                                         f"unknown ingredient {ingredient!r}")  # fmt: skip
            allergens[(systems[system_key], code)] = ingredient
    return RecordValueSets(model.version, tuple(facts), MappingProxyType(allergens))


@cache
def default_value_sets() -> RecordValueSets:
    """The shipped value sets against the shipped knowledge base, loaded once per process."""
    from mesoscreen.knowledge import default_knowledge_base

    return load_value_sets(default_knowledge_base())
