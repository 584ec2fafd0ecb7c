"""The drawings' words: every message the renderers say has a Vietnamese translation, and
numbers and dates follow each language's CLDR conventions."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.rendering import words as words_module
from mesoscreen.entrypoints.rendering.words import catalogue_path, words

RENDERING = Path(words_module.__file__).parent


def _said() -> set[str]:
    """Every message the rendering modules pass to ``say(...)``, extracted as pybabel would."""
    found = set()
    for module in sorted(RENDERING.glob("*.py")):
        for _, message, _, _ in extract_from_file("python", module, keywords={"say": None}):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_the_map_says_has_a_vietnamese_translation() -> None:
    """A message missing from vi.po (or left empty there) fails here, not in front of a patient."""
    said = _said()
    assert "Injection map" in said
    with catalogue_path(Language.VI).open("rb") as po:
        catalog = read_po(po, locale="vi")
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(m for m in said if not translated.get(m))
    assert not missing
    assert not set(translated) - said, "the catalogue holds no message the code no longer says"


def test_the_catalogue_keeps_every_placeholder_of_its_message() -> None:
    """A translation with a placeholder lost or renamed would fail when the map is drawn."""
    with catalogue_path(Language.VI).open("rb") as po:
        catalog = read_po(po, locale="vi")
    for message in catalog:
        if message.id and isinstance(message.id, str) and isinstance(message.string, str):
            assert sorted(_names(message.id)) == sorted(_names(message.string)), message.id


def _names(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))


def test_numbers_and_dates_are_written_as_each_language_writes_them() -> None:
    """Decimal comma and day-first date in Vietnamese; decimal point in English."""
    vi, en = words(Language.VI), words(Language.EN)
    assert vi.number(1.5) == "1,5"
    assert en.number(1.5) == "1.5"
    assert vi.number(1234.25) == "1.234,25"
    assert vi.number(0.0005) == "0,0005"
    assert vi.number(2.346, 2) == "2,35"
    assert vi.number(52.4, 0) == "52"
    assert vi.date(date(2026, 11, 25)) == "25 thg 11, 2026"
    assert en.date(date(2026, 11, 25)) == "Nov 25, 2026"
    assert vi("Injection map") == "Sơ đồ điểm tiêm"
    assert en("Injection map") == "Injection map"
