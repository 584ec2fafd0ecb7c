"""Citations that support: each rule's cited passages hold the words that justify its outcome
and each ingredient it excludes, and a part no source supports is declared clinic practice
rather than dressed in a borrowed citation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mesoscreen.domain.knowledge_base import Citation, Rule
from mesoscreen.knowledge import DEFAULT_DATA_DIR, default_knowledge_base
from mesoscreen.knowledge.facts_citations import CLINIC_PRACTICE, CLINIC_PRACTICE_VI

KB = default_knowledge_base()
RAW_RULES = {
    r["id"]: r
    for r in yaml.safe_load((DEFAULT_DATA_DIR / "rules.yaml").read_text(encoding="utf-8"))["rules"]
}

# Rule: words its main citation must hold, because they justify the outcome it forces.
OUTCOME_WORDS: dict[str, tuple[str, ...]] = {
    "pregnancy": ("Pregnant and breastfeeding women should avoid",),
    "pregnancy_potential": ("contraindicated in women who are or may become pregnant",),
    "breastfeeding": ("Pregnant and breastfeeding women should avoid",),
    "weaning_wait": ("wait at least 3-6 months after weaning",),
    "weaning_wait_three_months": ("wait at least 3-6 months after weaning",),
    "allergy_history": ("history of allergies", "testing and assessment before"),
    "sensitive_skin": ("sensitive skin", "testing and assessment before"),
    "cardiovascular_unstable": ("cardiovascular disease", "defer mesotherapy until"),
    "cardiovascular_managed": ("strict supervision of a dermatologist", "cardiologist"),
    "cardiovascular_avoid": ("cardiovascular diseases", "should avoid"),
    "myocardial_infarction": ("myocardial infarction", "should avoid"),
    "diabetes_absolute": ("Insulin-dependent diabetes is an absolute contraindication",),
    "diabetes_unstable": ("insulin-dependent diabetes should defer mesotherapy until",),
    "diabetes_managed": ("strict supervision of a dermatologist", "endocrinologist"),
    "cancer_history": ("a history of cancer", "should avoid"),
    "clotting_disorder": ("blood clotting disorders", "should avoid"),
    "anticoagulant_excluded": ("excludes", "anticoagulants incl. aspirin"),
    "anticoagulant_clearance": ("Do not stop prescribed", "report abnormal INR"),
    "treatment_area": ("open wounds", "must achieve complete healing before"),
}

# Risk tag: words a citation or see-also passage of the excluding rule must hold.
TAG_WORDS: dict[str, tuple[str, ...]] = {
    "vasodilator": ("vasodilators",),
    "caffeine_derivative": ("caffeine derivatives",),
    "stimulating_peptide": ("stimulating peptides",),
    "antiandrogen": ("Dutasteride", "may become pregnant"),
}

# Rules with a part no shipped source supports, and words the declaration names it by.
CLINIC_PRACTICE_PARTS: dict[str, str] = {
    "pregnancy_potential": "negative pregnancy test and contraception",
    "allergy_history": "named allergen",
    "cancer_history": "growth factors",
    "anticoagulant_clearance": "prescriber's agreement",
}


def _rule(rule_id: str) -> Rule:
    return next(r for r in KB.rules if r.id == rule_id)


def _passages(rule: Rule) -> list[Citation]:
    return [rule.citation, *rule.see_also]


def test_every_rule_has_a_row_saying_what_its_citation_must_support() -> None:
    """A new rule needs its row here: a citation nobody checked is how borrowing starts."""
    assert {r.id for r in KB.rules} == set(OUTCOME_WORDS)


@pytest.mark.parametrize("rule_id", sorted(OUTCOME_WORDS))
def test_the_cited_passage_holds_the_words_that_justify_the_outcome(rule_id: str) -> None:
    """The main citation, not a see-also, carries the outcome."""
    passage = _rule(rule_id).citation.passage
    for words in OUTCOME_WORDS[rule_id]:
        assert words in passage, (rule_id, words)


@pytest.mark.parametrize(
    ("rule_id", "tag"),
    sorted((r.id, t) for r in KB.rules for t in r.excludes_tags),
)
def test_every_excluded_ingredient_class_is_supported_or_declared_clinic_practice(
    rule_id: str, tag: str
) -> None:
    """The tag's words stand in a passage the rule cites, or the rule declares the exclusion
    as clinic practice."""
    rule = _rule(rule_id)
    if tag not in TAG_WORDS:
        declared = RAW_RULES[rule_id].get("clinic_practice") or ""
        advice = (f"{rule_id} excludes {tag} with no passage: cite one (and add the tag's "
                  "words to TAG_WORDS) or declare it clinic_practice")  # fmt: skip
        assert rule_id in CLINIC_PRACTICE_PARTS, advice
        assert tag.split("_")[0] in declared, advice
        return
    texts = " ".join(c.passage for c in _passages(rule))
    for words in TAG_WORDS[tag]:
        assert words in texts, (rule_id, tag, words)


def test_exactly_the_unsupported_parts_are_declared_clinic_practice() -> None:
    """The growth-factor exclusion, lifting the antiandrogen exclusion on a pregnancy test and
    contraception, excluding a named allergen and asking the prescriber are not in the
    sources, and say so."""
    declared = {rid: r["clinic_practice"] for rid, r in RAW_RULES.items() if "clinic_practice" in r}
    assert set(declared) == set(CLINIC_PRACTICE_PARTS)
    for rule_id, words in CLINIC_PRACTICE_PARTS.items():
        assert words in declared[rule_id]
        text = _rule(rule_id).clinician_text
        assert CLINIC_PRACTICE in text.en
        assert CLINIC_PRACTICE_VI in text.vi


def test_the_breastfeeding_deferral_rests_on_the_avoid_sentence_not_the_antibiotic_risk() -> None:
    """The antibiotic sentence is the reason, kept as a see-also."""
    rule = _rule("breastfeeding")
    assert "antibiotics" not in rule.citation.passage
    assert any("pass into breast milk" in c.passage for c in rule.see_also)


WEANING_WAIT = "wait at least 3-6 months after weaning"


def test_no_rule_permits_treatment_on_the_strength_of_the_weaning_wait() -> None:
    """'Wait at least 3-6 months' supports deferring, never a permitting outcome inside it."""
    for rule in KB.rules:
        if any(WEANING_WAIT in c.passage for c in _passages(rule)):
            assert rule.outcome.value in ("deferred", "contraindicated"), rule.id


def test_the_clotting_rule_gives_only_the_reason_its_source_gives() -> None:
    """The source says 'a heightened risk of complications', nothing about bleeding."""
    rule = _rule("clotting_disorder")
    assert "heightened risk of complications" in rule.clinician_text.en
    assert "bleeding" not in rule.clinician_text.en.lower()


def test_the_prescriber_clearance_reading_declares_what_is_clinic_practice() -> None:
    """The conflict reading that treats patients on blood thinners says which part no source
    supports."""
    reading = next(r for r in KB.conflicts["anticoagulant_therapy"].readings
                   if r.id == "prescriber_clearance")  # fmt: skip
    assert CLINIC_PRACTICE in reading.summary.en
    assert CLINIC_PRACTICE_VI in reading.summary.vi
    exclude = next(r for r in KB.conflicts["anticoagulant_therapy"].readings if r.id == "exclude")
    assert "aspirin" in exclude.summary.en
    assert "aspirin" in exclude.citation.passage


@pytest.mark.parametrize("complication", KB.complications, ids=lambda c: c.id)
def test_each_complication_is_named_by_its_cited_passage(complication: object) -> None:
    """The complication's cited passage names it (or what it is)."""
    words = {
        "irritation": "irritation", "swelling": "swelling", "bruising": "bruising",
        "skin_necrosis": "skin necrosis", "infection": "infection",
        "anaphylactic_shock": "anaphylactic shock", "injection_pain": "Pain",
        "injection_site_alopecia": "hair loss at injection sites",
        "atypical_mycobacterial_infection": "mycobacteria",
    }  # fmt: skip
    cid = complication.id  # type: ignore[attr-defined]
    assert cid in words, f"add a row for {cid}"
    assert words[cid].lower() in complication.citation.passage.lower()  # type: ignore[attr-defined]


def test_anaphylaxis_says_intramuscular_adrenaline_at_once_per_the_national_protocol() -> None:
    """Both languages: IM adrenaline at once, naming Thông tư 51/2017/TT-BYT."""
    shock = next(c for c in KB.complications if c.id == "anaphylactic_shock")
    assert "intramuscular adrenaline" in shock.description.en
    assert "at once" in shock.description.en
    assert "tiêm bắp adrenalin ngay" in shock.description.vi
    for text in (shock.description.en, shock.description.vi):
        assert "Thông tư 51/2017/TT-BYT" in text


def test_clinical_facts_citations_name_the_section_they_quote() -> None:
    """Every citation of the compilation carries the locator of the section holding it."""
    from mesoscreen.knowledge.facts_citations import section_texts
    from mesoscreen.knowledge.loader import DEFAULT_SOURCES_DIR

    sections = section_texts(Path(DEFAULT_SOURCES_DIR))
    cited: list[Citation] = [c for r in KB.rules for c in _passages(r)]
    cited += [r.citation for c in KB.conflicts.values() for r in c.readings]
    cited += [c.citation for c in KB.complications] + [a.citation for a in KB.alternatives]
    facts = [c for c in cited if c.source == "clinical-facts.md"]
    assert facts
    for citation in facts:
        assert citation.locator is not None
        assert citation.passage in sections[citation.locator]


def test_the_pregnancy_patient_text_gives_the_3_to_6_month_wait_in_both_languages() -> None:
    """The patient learns when the treatment can be looked at again, as the source says."""
    text = _rule("pregnancy").patient_text
    assert "at least 3 to 6 months after you stop breastfeeding" in text.en
    assert "ít nhất 3 đến 6 tháng sau khi ngừng cho con bú" in text.vi
