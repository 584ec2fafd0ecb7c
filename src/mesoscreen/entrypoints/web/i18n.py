"""The pages' words in English and Vietnamese, and dates, times and numbers as each writes them.

The words come from the locale files (``locales/en.yaml``, ``locales/vi.yaml``), loaded once.
Both catalogues must carry the same keys (checked at load, so a missing translation fails the
server's start, not a page in front of a patient). Clinical texts come from the knowledge
base, which carries both languages itself.

A catalogue reaches templates as ``Messages``, never as a dict: ``t.clear`` on a dict is the
dict's ``clear`` method, which a page would print as ``<built-in method clear ...>``.
``Messages`` has no public attribute of its own, so every name read from it is a message, and
a name that is not one raises ``MissingMessageError`` (which Jinja does not turn into an empty
string) instead of printing nothing or a Python repr.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mesoscreen.domain.errors import MissingMessageError as MissingMessageError
from mesoscreen.domain.vocabulary import Language

LOCALES = Path(__file__).parent / "locales"
_CODES = {language.value: language for language in Language}
_VIETNAMESE_SEPARATORS = str.maketrans(",.", ".,")


def _keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        keys |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return keys


class Messages:
    """One language's messages, read by key (``t["clear"]``) or by name (``t.clear``).

    Only messages can be read: there are no methods to shadow a key, and an unknown key raises
    MissingMessageError naming it. Nested groups are ``Messages`` too.
    """

    __slots__ = ("_path", "_tree")

    def __init__(self, tree: dict[str, Any], path: str = "") -> None:
        self._tree = tree
        self._path = path

    def __getitem__(self, key: object) -> Any:
        name = str(key)
        try:
            value = self._tree[name]
        except KeyError:
            raise MissingMessageError(
                f"message '{self._path}{name}': not in the catalogue (expected one of its keys)"
            ) from None
        return Messages(value, f"{self._path}{name}.") if isinstance(value, dict) else value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # Python's own protocols (copy, pickle) stay normal
        return self[name]

    def __contains__(self, key: object) -> bool:
        return str(key) in self._tree

    def __iter__(self) -> Iterator[str]:
        return iter(self._tree)

    def __len__(self) -> int:
        return len(self._tree)

    def __repr__(self) -> str:
        return f"Messages({self._path or 'root'})"


def message_or(messages: Messages, key: str, default: str) -> str:
    """The message ``key``, or ``default`` where the catalogue has none (e.g. an open choice)."""
    return str(messages[key]) if key in messages else default


@cache
def messages() -> dict[Language, Messages]:
    """Every language's catalogue as the pages read it."""
    return {language: Messages(tree) for language, tree in catalogues().items()}


@cache
def catalogues() -> dict[Language, dict[str, Any]]:
    """Every language's messages; ValueError naming the keys one language lacks."""
    loaded = {
        language: yaml.safe_load((LOCALES / f"{language.value}.yaml").read_text("utf-8"))
        for language in Language
    }
    english = _keys(loaded[Language.EN])
    for language, messages in loaded.items():
        differing = english ^ _keys(messages)
        if differing:
            raise ValueError(f"locale {language.value}: keys differ: {sorted(differing)}")
    return loaded


def language_named(code: str | None) -> Language | None:
    """The language a cookie or a form names; None when it is not one the pages speak."""
    return _CODES.get(code or "")


def preferred_language(accept_language: str | None) -> Language | None:
    """The browser's most wanted language among ours (RFC 9110 ``Accept-Language``), if any."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag.split("-")[0].strip().lower()))
    for _, _, code in sorted(ranked):
        if language_named(code):
            return language_named(code)
    return None


def format_date(day: date | str | None, language: Language) -> str:
    """A date as the user's locale writes it: 15 Jan 2027, or 15/01/2027 in Vietnamese."""
    if day is None or day == "":
        return ""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    if language is Language.VI:
        return value.strftime("%d/%m/%Y")
    return value.strftime("%d %b %Y").lstrip("0")


def format_moment(moment: datetime | None, language: Language, zone: tzinfo) -> str:
    """A stored (UTC) moment in the clinic's time zone: 24 Nov 2026 08:30, 24/11/2026 08:30."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{format_date(local.date(), language)} {local:%H:%M}"


def format_number(value: float | int | None, language: Language, decimals: int = 2) -> str:
    """A number with at most ``decimals`` decimals: 1,234.5 in English, 1.234,5 in Vietnamese."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.translate(_VIETNAMESE_SEPARATORS) if language is Language.VI else text
