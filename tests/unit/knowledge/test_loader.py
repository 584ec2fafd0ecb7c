"""The knowledge-base validator: a broken file fails at load, naming file, entry and fault."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.knowledge import DEFAULT_DATA_DIR, DEFAULT_SOURCES_DIR, load_knowledge_base


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped data files to break."""
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    """Replace the first occurrence of ``old``, which must be there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _drop_line(path: Path, start: str) -> None:
    """Remove the one line that begins with ``start``."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(start)]
    assert len(kept) == len(lines) - 1, start
    path.write_text("".join(kept), encoding="utf-8")


def test_the_shipped_knowledge_base_loads() -> None:
    """Every shipped rule, question and citation is valid."""
    kb = load_knowledge_base()
    assert kb.version
    assert kb.content_hash.startswith("sha256:")
    assert {r.category.value for r in kb.rules} >= {
        "pregnancy", "breastfeeding", "allergy", "cardiovascular",
        "diabetes", "cancer", "coagulation", "treatment_area",
    }  # fmt: skip
    assert {c.id for c in kb.complications} >= {
        "irritation", "swelling", "bruising", "skin_necrosis", "infection", "anaphylactic_shock",
    }  # fmt: skip


def test_the_hash_changes_when_any_file_changes(data_dir: Path) -> None:
    """One changed character in a rule text gives another content hash."""
    before = load_knowledge_base(data_dir).content_hash
    _edit(data_dir / "rules.yaml", "Pregnant: defer", "Pregnant:  defer")
    assert load_knowledge_base(data_dir).content_hash != before


SCALP_MASSAGE_CITATION = (
    "    citation:\n      source: mesotherapy-hair-loss-who-should-avoid.txt\n"
    '      passage: "regular scalp massages"\n'
)

BREAKAGES: list[tuple[str, Callable[[Path], None], str, str, str]] = [
    (
        "unknown fact",
        lambda d: _edit(d / "rules.yaml", "{fact: pregnant, is:", "{fact: pregnnt, is:"),
        "rules.yaml",
        "pregnancy",
        "unknown fact 'pregnnt'",
    ),
    (
        "misquoted citation",
        lambda d: _edit(d / "rules.yaml", "despite its benefits.", "whatever its benefits."),
        "rules.yaml",
        "pregnancy",
        "not found word for word",
    ),
    (
        "unknown source",
        lambda d: _edit(
            d / "rules.yaml",
            "source: mesotherapy-hair-loss-who-should-avoid.txt",
            "source: blog.txt",
        ),
        "rules.yaml",
        "pregnancy",
        "unknown source 'blog.txt'",
    ),
    (
        "missing citation",
        lambda d: _edit(d / "alternatives.yaml", SCALP_MASSAGE_CITATION, ""),
        "alternatives.yaml",
        "scalp_massage",
        "citation: Field required",
    ),
    (
        "duplicate id",
        lambda d: _edit(d / "rules.yaml", "- id: breastfeeding\n", "- id: pregnancy\n"),
        "rules.yaml",
        "pregnancy",
        "duplicate id",
    ),
    (
        "bad date rule source",
        lambda d: _edit(
            d / "rules.yaml",
            "defer_until: {from: weaned_on, months: 6",
            "defer_until: {from: pregnant, months: 6",
        ),
        "rules.yaml",
        "weaning_wait",
        "bad date rule",
    ),
    (
        "bad date rule months",
        lambda d: _edit(
            d / "rules.yaml", "months: 6, lenient_months: 3", "months: 3, lenient_months: 6"
        ),
        "rules.yaml",
        "weaning_wait",
        "lenient_months must be 1 to below months",
    ),
    (
        "a default that is not the stricter reading without a reason",
        lambda d: _edit(d / "conflicts.yaml", "default: absolute", "default: defer_until_stable"),
        "conflicts.yaml",
        "insulin_dependent_diabetes",
        "is not the stricter reading: give a default_reason",
    ),
    (
        "exclusion lifted by an action the rule does not ask for",
        lambda d: _edit(
            d / "rules.yaml",
            "exclusion_lifted_by: [pregnancy_test_negative,",
            "exclusion_lifted_by: [cardiologist_clearance,",
        ),
        "rules.yaml",
        "pregnancy_potential",
        "is not one of its actions",
    ),
    (
        "a consistency check listing answers it does not read",
        lambda d: _edit(
            d / "consistency.yaml",
            "answers: [weaned_on, birth_date]",
            "answers: [weaned_on, sex]",
        ),
        "consistency.yaml",
        "weaning_date_before_birth_date",
        "answers must be exactly the questions",
    ),
    (
        "unknown outcome",
        lambda d: _edit(d / "rules.yaml", "    outcome: contraindicated", "    outcome: forbidden"),
        "rules.yaml",
        "cardiovascular_avoid",
        "outcome must be one of",
    ),
    (
        "incomplete is not a rule outcome",
        lambda d: _edit(
            d / "rules.yaml", "    outcome: contraindicated", "    outcome: incomplete"
        ),
        "rules.yaml",
        "cardiovascular_avoid",
        "outcome must be one of",
    ),
    (
        "unknown action",
        lambda d: _edit(d / "rules.yaml", "actions: [rescreen_after_pregnancy]", "actions: [pray]"),
        "rules.yaml",
        "pregnancy",
        "unknown action 'pray'",
    ),
    (
        "unknown risk tag",
        lambda d: _edit(
            d / "rules.yaml", "excludes_tags: [antiandrogen]", "excludes_tags: [magic]"
        ),
        "rules.yaml",
        "pregnancy",
        "unknown risk tag 'magic'",
    ),
    (
        "impossible answer",
        lambda d: _edit(
            d / "rules.yaml", '{fact: pregnant, is: "yes"}', '{fact: pregnant, is: "maybe"}'
        ),
        "rules.yaml",
        "pregnancy",
        "cannot be 'maybe'",
    ),
    (
        "missing translation",
        lambda d: _edit(d / "questions.yaml", '      vi: "Giới tính"\n', ""),
        "questions.yaml",
        "sex",
        "text.vi: Field required",
    ),
    (
        "misspelt key",
        lambda d: _edit(d / "rules.yaml", "offers_alternatives: true", "offer_alternatives: true"),
        "rules.yaml",
        "pregnancy",
        "offer_alternatives: Extra inputs are not permitted",
    ),
    (
        "follow-up before its gate",
        lambda d: _edit(
            d / "questions.yaml",
            "applies_when: {not: {fact: sex, is: male}}",
            'applies_when: {fact: allergy_history, is: "yes"}',
        ),
        "questions.yaml",
        "pregnant",
        "must be a question listed before it",
    ),
    (
        "unknown conflict reading",
        lambda d: _edit(d / "rules.yaml", "reading: absolute}", "reading: lenient}"),
        "rules.yaml",
        "diabetes_absolute",
        "unknown reading 'lenient'",
    ),
    (
        "bad conflict default",
        lambda d: _edit(d / "conflicts.yaml", "default: absolute", "default: lenient"),
        "conflicts.yaml",
        "insulin_dependent_diabetes",
        "default 'lenient'",
    ),
    (
        "ingredient with unknown tag",
        lambda d: _edit(d / "ingredients.yaml", "tags: [vasodilator]\n", "tags: [vasodilatr]\n"),
        "ingredients.yaml",
        "minoxidil",
        "unknown risk tag 'vasodilatr'",
    ),
    (
        "clinical-facts citation with the wrong section",
        lambda d: _edit(d / "rules.yaml", 'locator: "C2"', 'locator: "C3"'),
        "rules.yaml",
        "anticoagulant_excluded",
        "not found word for word in section C3",
    ),
    (
        "clinical-facts citation without a section",
        lambda d: _edit(d / "complications.yaml", '      locator: "D1"\n', ""),
        "complications.yaml",
        "injection_pain",
        "needs a locator naming its section",
    ),
    (
        "clinic practice declared but not said in the text",
        lambda d: _edit(
            d / "rules.yaml",
            "as they stimulate cell growth (no source: clinic practice).",
            "as they stimulate cell growth.",
        ),
        "rules.yaml",
        "cancer_history",
        "the text must say 'no source: clinic practice'",
    ),
    (
        "clinic practice said in the text but not declared",
        lambda d: _drop_line(d / "rules.yaml", '    clinic_practice: "No shipped source links'),
        "rules.yaml",
        "cancer_history",
        "but 'clinic_practice' does not say why",
    ),
    (
        "clinic practice said in a reading but not declared",
        lambda d: _drop_line(d / "conflicts.yaml", '        clinic_practice: "The cited advice'),
        "conflicts.yaml",
        "anticoagulant_therapy.prescriber_clearance",
        "but 'clinic_practice' does not say why",
    ),
    (
        "protocol not named in the description",
        lambda d: _edit(
            d / "complications.yaml",
            "xử trí phản vệ của Bộ Y tế (Thông tư 51/2017/TT-BYT).",
            "xử trí phản vệ của Bộ Y tế.",
        ),
        "complications.yaml",
        "anaphylactic_shock",
        "must be named in description.en and description.vi",
    ),
    (
        "invalid yaml",
        lambda d: (d / "actions.yaml").write_text("actions: [\n", encoding="utf-8"),
        "actions.yaml",
        "-",
        "not valid YAML",
    ),
]


@pytest.mark.parametrize(
    ("breakage", "file", "entry", "fragment"),
    [(b[1], b[2], b[3], b[4]) for b in BREAKAGES],
    ids=[b[0] for b in BREAKAGES],
)
def test_a_broken_knowledge_base_fails_at_load_naming_file_entry_and_fault(
    data_dir: Path, breakage: Callable[[Path], None], file: str, entry: str, fragment: str
) -> None:
    """Each kind of breakage is refused with a message a knowledge editor can act on."""
    breakage(data_dir)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(data_dir, DEFAULT_SOURCES_DIR)
    assert (caught.value.file, caught.value.entry) == (file, entry)
    assert fragment in caught.value.problem


def test_a_missing_source_file_is_refused(data_dir: Path, tmp_path: Path) -> None:
    """A manifest source that is not shipped fails the load."""
    sources = tmp_path / "sources"
    sources.mkdir()
    with pytest.raises(KnowledgeBaseError, match=r"source file .* is missing"):
        load_knowledge_base(data_dir, sources)
