"""The consent templates as data: version 2 tells the patient of pain, scarring hair loss and
atypical mycobacterial infection, that the treatment is not an approved indication, and the
antiandrogens' pregnancy warning, in both languages; clinical statements cite their sources;
version 1 stays word for word (and hash for hash) as patients signed it."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mesoscreen.domain.consent import render_document
from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.domain.vocabulary import Language
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.consent_loader import (
    CONSENT_DIR,
    default_consent_templates,
    load_consent_templates,
)
from mesoscreen.services.screening import ScreeningService
from tests.intakes import intake

KB = default_knowledge_base()
TEMPLATES = default_consent_templates()
V1_HASH = "sha256:96531bf83df0ca45478a5e787860965dd432790040af69696c6dd908b35b4629"

# What version 2 must say, in each language: (English words, Vietnamese words).
MUST_SAY: dict[str, tuple[str, str]] = {
    "pain": ("Pain during or after the injections", "Đau trong hoặc sau khi tiêm"),
    "scarring hair loss": ("scarring hair loss", "rụng tóc có sẹo"),
    "atypical mycobacteria": ("Atypical mycobacterial infection",
                              "vi khuẩn lao không điển hình"),
    "not an approved indication": ("not an approved indication",
                                   "không phải là chỉ định đã được phê duyệt"),
    "antiandrogens in pregnancy": ("must not be used by a woman who is pregnant or may become "
                                   "pregnant", "không được dùng cho phụ nữ đang mang thai hoặc "
                                   "có thể mang thai"),
    "contraception": ("Use contraception during the treatment and for at least 6 months",
                      "Dùng biện pháp tránh thai trong suốt thời gian điều trị và ít nhất 6 tháng"),
    "no blood donation": ("Do not donate blood", "Không hiến máu"),
    "anaphylaxis: IM adrenaline": ("give intramuscular adrenaline (epinephrine) at once",
                                   "tiêm bắp adrenalin ngay"),
}  # fmt: skip


def _document(language: Language) -> dict[str, Any]:
    template = TEMPLATES.current("scalp-mesotherapy", date(2026, 12, 7))
    decision = ScreeningService(KB).screen(intake("female"), date(2026, 12, 7)).as_dict()
    return render_document(template, KB.complications, "eligible", decision, language)


def _all_words(node: Any) -> str:
    if isinstance(node, dict):
        return " ".join(_all_words(v) for v in node.values())
    if isinstance(node, list):
        return " ".join(_all_words(v) for v in node)
    return str(node)


def test_version_2_is_in_force_from_7_december_2026_and_version_1_before() -> None:
    """Consent taken before keeps version 1; from the 7th the new text applies."""
    assert TEMPLATES.current("scalp-mesotherapy", date(2026, 12, 6)).version == "1"
    assert TEMPLATES.current("scalp-mesotherapy", date(2026, 12, 7)).version == "2"


def test_version_1_keeps_the_hash_patients_signed() -> None:
    """Paragraph sources are new; a template without them hashes exactly as before."""
    v1 = next(t for t in TEMPLATES.templates if t.version == "1")
    assert v1.hash == V1_HASH


@pytest.mark.parametrize("topic", sorted(MUST_SAY))
@pytest.mark.parametrize("language", [Language.EN, Language.VI])
def test_version_2_tells_the_patient_in_both_languages(topic: str, language: Language) -> None:
    """Each addition stands in the rendered document, in English and in Vietnamese."""
    words = MUST_SAY[topic][0 if language is Language.EN else 1]
    assert words in _all_words(_document(language))


def test_version_2_lists_the_new_complications_with_their_sources() -> None:
    """Pain, scarring hair loss and atypical mycobacteria come from the knowledge base, each
    with the passage it rests on."""
    (risks,) = [s for s in _document(Language.EN)["sections"] if s["id"] == "risks"]
    by_id = {c["id"]: c for c in risks["complications"]}
    assert {"injection_pain", "injection_site_alopecia", "atypical_mycobacterial_infection",
            "anaphylactic_shock"} <= set(by_id)  # fmt: skip
    assert "mycobacteria" in by_id["atypical_mycobacterial_infection"]["passage"]
    assert "inflammatory scarring" in by_id["injection_site_alopecia"]["passage"]


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "consent"
    shutil.copytree(CONSENT_DIR, folder)
    return folder


def test_a_misquoted_paragraph_source_is_refused_at_load(tmp_path: Path) -> None:
    """A paragraph's quote must stand word for word in the section it names."""
    folder = _copy(tmp_path)
    path = folder / "scalp-mesotherapy-2.yaml"
    text = path.read_text(encoding="utf-8")
    broken = text.replace('quote: "No standard regimen exists."', 'quote: "A standard one exists."')
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_consent_templates(KB, folder)
    assert caught.value.file == "scalp-mesotherapy-2.yaml"
    assert "not found word for word in section B1" in caught.value.problem


def test_a_paragraph_source_naming_a_missing_section_is_refused(tmp_path: Path) -> None:
    """A section clinical-facts.md does not have is refused, naming it."""
    folder = _copy(tmp_path)
    path = folder / "scalp-mesotherapy-2.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{section: C10,", "{section: C99,"), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_consent_templates(KB, folder)
    assert "C99" in caught.value.problem
