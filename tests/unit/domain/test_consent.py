"""Consent documents: made from the template, the knowledge base and the screening; hashed;
signed by typed name or drawing; the template version in force by date."""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import replace
from datetime import date

import pytest

from mesoscreen.domain.consent import (
    ConsentTemplates,
    canonical_hash,
    check_drawn_signature,
    render_document,
    typed_name_matches,
)
from mesoscreen.domain.errors import InputError
from mesoscreen.domain.vocabulary import Language
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.consent_loader import default_consent_templates
from mesoscreen.services.screening import ScreeningService
from tests.intakes import intake

KB = default_knowledge_base()
V1 = default_consent_templates().current("scalp-mesotherapy", date(2026, 11, 25))
SOURCE_SIX = ["irritation", "swelling", "bruising", "skin_necrosis", "infection",
              "anaphylactic_shock"]  # fmt: skip


def _png(width: int = 40, height: int = 20) -> bytes:
    """A minimal valid PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))  # fmt: skip


def _decision(**answers: object) -> dict[str, object]:
    screened = ScreeningService(KB).screen(intake("female", **answers), date(2026, 11, 25))
    return screened.as_dict()


def test_the_document_lists_the_six_complications_of_the_source_with_their_citation() -> None:
    """Names and descriptions come from the knowledge base, each with its source passage."""
    document = render_document(V1, KB.complications, "eligible", _decision(), Language.EN)
    (risks,) = [s for s in document["sections"] if s["id"] == "risks"]
    assert [c["id"] for c in risks["complications"]] == SOURCE_SIX
    assert all(c["source"] == "mesotherapy-hair-loss-who-should-avoid.txt"
               for c in risks["complications"])  # fmt: skip
    assert document["template_version"] == V1.version
    assert document["template_hash"] == V1.hash


def test_the_document_carries_this_patients_findings_and_actions_in_her_language() -> None:
    """An allergy finding and its patch test appear in Vietnamese in a Vietnamese document."""
    decision = _decision(allergy_history="yes", allergens=["lidocaine"])
    document = render_document(V1, KB.complications, "specialist_clearance", decision, Language.VI)
    (own,) = [s for s in document["sections"] if s["id"] == "screening"]
    assert own["screening"]["findings"]
    assert own["screening"]["required_actions"]
    expected = decision["required_actions"][0]["text"]["vi"]  # type: ignore[index]
    assert own["screening"]["required_actions"][0]["text"] == expected
    assert document["language"] == "vi"
    assert document["title"] == V1.title.vi


def test_the_hash_changes_with_any_word_and_not_with_key_order() -> None:
    """Canonical JSON: same content, same hash; one changed letter, another hash."""
    document = render_document(V1, KB.complications, "eligible", _decision(), Language.EN)
    reordered = dict(reversed(list(document.items())))
    assert canonical_hash(reordered) == canonical_hash(document)
    changed = document | {"declaration": document["declaration"] + "."}
    assert canonical_hash(changed) != canonical_hash(document)


@pytest.mark.parametrize(
    ("typed", "matches"),
    [("Trần Thị Mai", True), ("mai  tran thi", False), ("Thị Mai Trần", True),
     ("  TRAN   thi mai ", True), ("Tran Thi Mai", True), ("TRẦN THỊ MAI", True),
     ("Tran Mai", False), ("Tran Thi Mai Anh", False), ("", False), ("   ", False)],
)  # fmt: skip
def test_a_typed_name_must_be_the_registered_full_name_in_either_order(
    typed: str, matches: bool
) -> None:
    """Case, spacing, accents and tone marks do not matter (a keyboard without Vietnamese
    input signs too); the words and the order within each name do."""
    assert typed_name_matches(typed, "Trần", "Thị Mai") is matches


def test_a_typed_name_with_the_stroked_d_typed_as_d_matches() -> None:
    """Đặng Văn Dũng signed on a plain keyboard as "Dang Van Dung"."""
    assert typed_name_matches("Dang Van Dung", "Đặng", "Văn Dũng")
    assert not typed_name_matches("Dang Van Dung", "Đặng", "Văn Dương")


def test_a_drawn_signature_must_be_a_small_png() -> None:
    """A real PNG passes; a JPEG, garbage, a huge or an empty-sized image are refused."""
    check_drawn_signature("data:image/png;base64," + base64.b64encode(_png()).decode())
    for bad in (
        "data:image/jpeg;base64,/9j/4AAQ",
        "data:image/png;base64,@@@",
        "data:image/png;base64," + base64.b64encode(b"GIF89a" + b"0" * 40).decode(),
        "data:image/png;base64," + base64.b64encode(_png(5000, 1)).decode(),
        "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"0" * 300_000).decode(),
    ):
        with pytest.raises(InputError, match="signature"):
            check_drawn_signature(bad)  # fmt: skip


def test_the_version_in_force_is_the_latest_effective_one() -> None:
    """Before version 2's date, version 1; from that day, version 2."""
    v2 = replace(V1, version="2", effective_from=date(2027, 1, 1), hash="sha256:two")
    templates = ConsentTemplates((V1, v2))
    assert templates.current("scalp-mesotherapy", date(2026, 12, 31)).version == "1"
    assert templates.current("scalp-mesotherapy", date(2027, 1, 1)).version == "2"
    with pytest.raises(InputError, match="no consent template in force"):
        templates.current("scalp-mesotherapy", date(2026, 10, 1))
