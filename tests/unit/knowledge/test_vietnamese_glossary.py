"""Clinical Vietnamese: every Vietnamese text shipped (knowledge base, consent, formulary,
page words) keeps to the glossary, and the Vietnamese INN spellings name the catalogue's
ingredients, as allergens too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from babel.messages.pofile import read_po

from mesoscreen.domain.policy import make_policy
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService
from tests.intakes import BASES

SRC = Path(__file__).parents[3] / "src" / "mesoscreen"
VI_LOCALE = SRC / "entrypoints" / "web" / "locales" / "vi.po"

# (wrong, why and what to use)
GLOSSARY: list[tuple[str, str]] = [
    (r"thuốc chống đông(?! hoặc chống kết tập tiểu cầu)",
     "antiplatelets are not anticoagulants: 'thuốc chống đông hoặc chống kết tập tiểu cầu'"),
    (r"tiểu đường", "use 'đái tháo đường'"),
    (r"vi khoáng", "trace elements are 'nguyên tố vi lượng'"),
    (r"vi chất(?! dinh dưỡng)", "trace elements are 'nguyên tố vi lượng'; micronutrients "
                                 "'vi chất dinh dưỡng'"),
    (r"thử áp", "use 'test áp (patch test)'"),
    (r"(?<!test áp \()patch test", "use 'test áp (patch test)'"),
    (r"xét nghiệm/thử", "allergy testing is 'thử phản ứng' or 'test áp (patch test)'"),
    (r"đông không bình thường", "use 'rối loạn đông máu'"),
    (r"(?i)\b(lidocaine|procaine|caffeine|dutasteride|finasteride|adrenaline)\b",
     "use the Vietnamese INN: Lidocain, Procain, Cafein, Dutasterid, Finasterid, adrenalin"),
]  # fmt: skip


def _vi_texts(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string under a 'vi' key, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "vi" and isinstance(value, str):
                yield where, value
            else:
                yield from _vi_texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            label = value.get("id", index) if isinstance(value, dict) else index
            yield from _vi_texts(value, f"{where}[{label}]")


def _superseded_consent_versions() -> set[Path]:
    """Published consent versions a later one replaces: frozen as patients signed them."""
    latest: dict[str, tuple[str, Path]] = {}
    paths = sorted((SRC / "knowledge" / "consent").glob("*.yaml"))
    for path in paths:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        effective = str(document["effective_from"])
        if document["procedure"] not in latest or effective > latest[document["procedure"]][0]:
            latest[document["procedure"]] = (effective, path)
    return set(paths) - {path for _, path in latest.values()}


def _all_vietnamese() -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    frozen = _superseded_consent_versions()
    for path in sorted(set(SRC.rglob("*.yaml")) - frozen):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        name = str(path.relative_to(SRC))
        texts += _vi_texts(document, name)
    with VI_LOCALE.open("rb") as catalogue:
        texts += [(f"entrypoints/web/locales/vi.po:{m.id}", str(m.string))
                  for m in read_po(catalogue, locale="vi") if m.id]  # fmt: skip
    return texts


VIETNAMESE = _all_vietnamese()


def test_the_scan_reads_the_knowledge_base_consent_formulary_and_page_words() -> None:
    """The glossary check has something to check in each place Vietnamese lives."""
    files = {where.split(".yaml")[0].split(".po")[0] for where, _ in VIETNAMESE}
    assert {"knowledge/data/rules", "knowledge/data/questions", "knowledge/data/actions",
            "knowledge/consent/scalp-mesotherapy-2", "knowledge/planning/formulary",
            "entrypoints/web/locales/vi"} <= files  # fmt: skip


@pytest.mark.parametrize(("pattern", "advice"), GLOSSARY, ids=[g[0] for g in GLOSSARY])
def test_vietnamese_texts_keep_to_the_clinical_glossary(pattern: str, advice: str) -> None:
    """No shipped Vietnamese text uses a term the glossary replaces."""
    wrong = [(where, text) for where, text in VIETNAMESE if re.search(pattern, text)]
    assert not wrong, f"{advice}: {wrong[:5]}"


def test_the_antiplatelet_question_and_its_rules_use_the_full_term() -> None:
    """The question names antiplatelets, so every text about it does too."""
    kb = default_knowledge_base()
    term = "thuốc chống đông hoặc chống kết tập tiểu cầu"
    assert term in kb.question("anticoagulant_use").text.vi
    for rule in kb.rules:
        if rule.category.value == "coagulation" and rule.id.startswith("anticoagulant"):
            assert term in rule.clinician_text.vi
            assert term in rule.patient_text.vi
    assert term in kb.actions["prescriber_clearance"].text.vi


VI_INN = {
    "Lidocain": "lidocaine", "Procain": "procaine", "Cafein": "caffeine",
    "Dutasterid": "dutasteride", "Finasterid": "finasteride",
}  # fmt: skip


@pytest.mark.parametrize(("vi_name", "ingredient"), sorted(VI_INN.items()))
def test_the_vietnamese_inn_is_the_ingredient_name_in_vietnamese(
    vi_name: str, ingredient: str
) -> None:
    """The catalogue shows the Vietnamese INN to Vietnamese readers."""
    kb = default_knowledge_base()
    assert next(i for i in kb.ingredients if i.id == ingredient).name.vi == vi_name


@pytest.mark.parametrize(
    ("allergen", "ingredient"),
    [*sorted(VI_INN.items()), ("lidocain hydroclorid", "lidocaine"), ("LIDOCAINE", "lidocaine"),
     ("Xylocain", "lidocaine"), ("dị ứng cafein", "caffeine"), ("Novocain", "procaine")],
)  # fmt: skip
def test_an_allergen_in_vietnamese_or_english_spelling_excludes_the_ingredient(
    allergen: str, ingredient: str
) -> None:
    """A named allergen matches the ingredient whichever spelling the patient used."""
    kb = default_knowledge_base()
    raw = BASES["male"] | {"allergy_history": "yes", "allergens": [allergen]}
    decision = ScreeningService(kb, make_policy(kb, "test", {})).screen(raw, date(2026, 11, 25))
    assert ingredient in {e.ingredient for e in decision.excluded_ingredients}
    assert decision.unmatched_allergens == ()


def test_a_vietnamese_class_name_as_allergen_excludes_its_members() -> None:
    """'nguyên tố vi lượng' (trace elements) and 'thuốc gây tê' reach every member."""
    kb = default_knowledge_base()
    raw = BASES["male"] | {"allergy_history": "yes",
                           "allergens": ["nguyên tố vi lượng", "thuốc gây tê"]}  # fmt: skip
    decision = ScreeningService(kb, make_policy(kb, "test", {})).screen(raw, date(2026, 11, 25))
    excluded = {e.ingredient for e in decision.excluded_ingredients}
    assert {"zinc", "multivitamin_complex", "lidocaine", "procaine"} <= excluded
