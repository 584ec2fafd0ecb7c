"""The value sets load with their provenance, and broken ones fail naming file and entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.valuesets import (
    DEFAULT_VALUESETS,
    VALUESETS_DIR,
    load_value_sets,
    normalise_icd10,
)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "valuesets"
    shutil.copytree(VALUESETS_DIR, folder)
    return folder


def test_every_fact_names_its_sources_and_scope() -> None:
    """Each published source has a URL, an OID, a version and an expansion date."""
    value_sets = load_value_sets(default_knowledge_base(), DEFAULT_VALUESETS)
    for fact in value_sets.facts:
        assert fact.scope, fact.question
        assert fact.out_of_scope, fact.question
        published = [s for s in fact.sources if s.url]
        assert all(s.oid and s.version and s.expansion_date for s in published), fact.question
    cancer = next(f for f in value_sets.facts if f.question == "cancer_history")
    assert len(cancer.codes) > 5000  # a descendant expansion, not a handful of concepts


def test_an_example_the_question_does_not_name_fails_the_load(tmp_path: Path) -> None:
    """The examples a question shows and its value set cannot drift apart."""
    folder = _copy(tmp_path)
    path = folder / "anticoagulant_use.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "examples: [warfarin,", "examples: [prasugrel, warfarin,"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"examples\.prasugrel"):
        load_value_sets(default_knowledge_base(), folder / "record_facts.yaml")


def test_an_rxnorm_code_of_an_unknown_ingredient_fails_the_load(tmp_path: Path) -> None:
    """Every RxNorm product maps to an ingredient of its file."""
    folder = _copy(tmp_path)
    path = folder / "anticoagulant_use.yaml"
    text = path.read_text(encoding="utf-8").replace(
        '"309362": clopidogrel', '"309362": clopidogrol'
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"rxnorm\.309362"):
        load_value_sets(default_knowledge_base(), folder / "record_facts.yaml")


@pytest.mark.parametrize(
    ("code", "normal"),
    [("C50.9", "C509"), ("c50.9+", "C509"), ("I25.2", "I252"), ("U07.1!", "U071"), ("E10", "E10")],
)
def test_icd10_codes_are_compared_without_dots_or_marks(code: str, normal: str) -> None:
    """ICD-10-GM marks and dots do not hide a code from its prefix."""
    assert normalise_icd10(code) == normal
