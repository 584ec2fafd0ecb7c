"""The pages' words in English and Vietnamese, loaded from the locale files at start-up.

Both catalogues must carry the same keys (checked at load, so a missing translation fails the
server's start, not a page in front of a patient). Clinical texts come from the knowledge
base, which carries both languages itself.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mesoscreen.domain.vocabulary import Language

LOCALES = Path(__file__).parent / "locales"


def _keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        keys |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return keys


@cache
def catalogues() -> dict[Language, dict[str, Any]]:
    """Every language's messages; ValueError naming the keys one language lacks."""
    loaded = {
        language: yaml.safe_load((LOCALES / f"{language.value}.yaml").read_text("utf-8"))
        for language in Language
    }
    english = _keys(loaded[Language.EN])
    for language, messages in loaded.items():
        missing = english ^ _keys(messages)
        if missing:
            raise ValueError(f"locale {language.value}: keys differ: {sorted(missing)}")
    return loaded


def format_date(day: date | str | None, language: Language) -> str:
    """A date as the user's locale writes it: 15 Jan 2027, or 15/01/2027 in Vietnamese."""
    if day is None:
        return ""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    if language is Language.VI:
        return value.strftime("%d/%m/%Y")
    return value.strftime("%d %b %Y").lstrip("0")
