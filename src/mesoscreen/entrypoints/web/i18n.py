"""The pages' words in English and Vietnamese, and dates, times and numbers as each writes them.

The words are gettext catalogues, ``locales/en.po`` and ``locales/vi.po``, which translators
edit with the usual tools (README, "Translators"). A message id is a dotted key
(``photos.views.front``) and each language, English included, gives its text; places are
gettext's ``%(name)s``. Babel reads both files once, at the first page. Templates read words
through Jinja2's i18n extension, ``{{ _("photos.views." ~ view) }}`` or ``_("header.age",
years=n)``, never as a dictionary read by attribute (``t.clear`` on a dict is the dict's
``clear`` method, which a page would print as ``<built-in method clear ...>``). Clinical texts
come from the knowledge base, which carries both languages itself.

A message a language lacks (or leaves empty) is shown in English, else as its id, so a page is
never blank in front of a patient; with ``MESOSCREEN_STRICT_MESSAGES=1`` (the tests set it) it
raises ``MissingMessageError`` instead, and a test checks that every id has text in every
language. Dates, times and numbers come from CLDR through Babel.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path

from babel.dates import format_date as cldr_date
from babel.dates import format_skeleton, format_time
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from mesoscreen.domain.errors import MissingMessageError as MissingMessageError
from mesoscreen.domain.vocabulary import Language

LOCALES = Path(__file__).parent / "locales"
STRICT_MESSAGES_ENV = "MESOSCREEN_STRICT_MESSAGES"
_CODES = {language.value: language for language in Language}
# The CLDR locale each language's dates and numbers follow: English as read in a clinic in
# Vietnam writes the day first (5 Jan 2027), as British English does.
_CLDR_LOCALE = {Language.EN: "en_GB", Language.VI: "vi"}


def strict_messages() -> bool:
    """Whether a missing message raises (tests) rather than falls back to English."""
    return os.environ.get(STRICT_MESSAGES_ENV, "") == "1"


class Messages:
    """One language's catalogue: ``gettext(id)`` (or ``messages[id]``) gives the text."""

    __slots__ = ("_fallback", "_texts", "language")

    def __init__(
        self, language: Language, texts: dict[str, str], fallback: Messages | None = None
    ) -> None:
        self.language = language
        self._texts = texts
        self._fallback = fallback

    def gettext(self, message_id: object) -> str:
        """The text of ``message_id``; MissingMessageError (strict) or the English text."""
        key = str(message_id)
        text = self._texts.get(key)
        if text:
            return text
        if strict_messages():
            raise MissingMessageError(
                f"message '{key}': no {self.language.value} text in "
                f"locales/{self.language.value}.po (expected a non-empty msgstr)"
            )
        if self._fallback is not None:
            return self._fallback.gettext(key)
        return key

    __getitem__ = gettext

    def __contains__(self, message_id: object) -> bool:
        return bool(self._texts.get(str(message_id)))

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __repr__(self) -> str:
        return f"Messages({self.language.value}, {len(self._texts)} ids)"


def message_or(messages: Messages, key: str, default: str) -> str:
    """The message ``key``, or ``default`` where the catalogue has none (e.g. an open choice)."""
    return messages.gettext(key) if key in messages else default


def catalogue_path(language: Language) -> Path:
    """The ``.po`` file of ``language``."""
    return LOCALES / f"{language.value}.po"


@cache
def catalogues() -> dict[Language, dict[str, str]]:
    """Every language's texts by message id, as its ``.po`` file gives them (read once)."""
    loaded = {}
    for language in Language:
        with catalogue_path(language).open("rb") as file:
            catalogue = read_po(file, locale=language.value)
        loaded[language] = {
            str(message.id): str(message.string or "")
            for message in catalogue
            if message.id and isinstance(message.id, str)
        }
    return loaded


@cache
def messages() -> dict[Language, Messages]:
    """Every language's catalogue as pages read it (missing texts fall back to English)."""
    english = Messages(Language.EN, catalogues()[Language.EN])
    return {
        language: english
        if language is Language.EN
        else Messages(language, texts, fallback=english)
        for language, texts in catalogues().items()
    }


def incomplete_messages() -> dict[str, list[str]]:
    """Per language code, the ids another language has and this one lacks or leaves empty."""
    every_id = set().union(*(texts.keys() for texts in catalogues().values()))
    return {
        language.value: sorted(key for key in every_id if not texts.get(key))
        for language, texts in catalogues().items()
    }


def _page_messages(context: Context) -> Messages:
    language = language_named(context.get("lang"))
    if language is None:
        if strict_messages():
            raise MissingMessageError(
                "template without 'lang': import macros 'with context' so they read words"
            )
        language = Language.EN
    return messages()[language]


@cache
def _page_texts() -> dict[str | None, dict[str, Markup]]:
    """Each language's texts escaped once, by language code (a page reads hundreds)."""
    return {
        language.value: {key: escape(text) for key, text in texts.items() if text}
        for language, texts in catalogues().items()
    }


def _page_text(context: Context, message_id: object) -> Markup:
    texts = _page_texts().get(context.get("lang"), {})
    found = texts.get(message_id) if isinstance(message_id, str) else None
    if found is None:  # not in this language, or no language: the slow path
        return escape(_page_messages(context).gettext(message_id))
    return found


# Jinja's new-style gettext, written out rather than wrapped by install_gettext_callables,
# which costs four times the lookup: the text is words, never HTML, so it is escaped (once,
# above), and the values put in its places are escaped by Markup's ``%``.
@pass_context
def _page_gettext(context: Context, message_id: object, /, **variables: object) -> Markup:
    text = _page_text(context, message_id)
    return text % variables if variables else text


@pass_context
def _page_ngettext(
    context: Context, singular: object, plural: object, count: int, /, **variables: object
) -> Markup:
    text = _page_text(context, singular if count == 1 else plural)
    return text % ({"num": count} | variables)


@pass_context
def _page_has_message(context: Context, message_id: object) -> bool:
    return message_id in _page_messages(context)


def install_gettext(environment: Environment) -> None:
    """Give ``environment``'s templates ``_``, ``gettext`` and ``{% trans %}`` in the page's
    language (the ``lang`` each page is rendered with), and ``has_message(id)`` for words
    that exist only for some values (an open list's known members)."""
    environment.add_extension("jinja2.ext.i18n")
    environment.newstyle_gettext = True  # type: ignore[attr-defined]
    environment.globals.update(
        gettext=_page_gettext, _=_page_gettext, ngettext=_page_ngettext,
        has_message=_page_has_message,
    )  # fmt: skip


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
    """A date as the user's locale writes it (CLDR): 5 Jan 2027, or 05/01/2027 in Vietnamese."""
    if day is None or day == "":
        return ""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    if language is Language.VI:
        # Vietnamese clinical forms write day and month with two digits (CLDR's short
        # format would give 5/1/27).
        return cldr_date(value, "dd/MM/y", locale=_CLDR_LOCALE[language])
    return str(format_skeleton("yMMMd", value, locale=_CLDR_LOCALE[language]))


def format_moment(moment: datetime | None, language: Language, zone: tzinfo) -> str:
    """A stored (UTC) moment in the clinic's time zone: 24 Nov 2026 08:30, 24/11/2026 08:30."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    clock = format_time(local, "HH:mm", locale=_CLDR_LOCALE[language])
    return f"{format_date(local.date(), language)} {clock}"


def format_number(value: float | int | None, language: Language, decimals: int = 2) -> str:
    """A number with at most ``decimals`` decimals (CLDR): 1,234.5 in English, 1.234,5 in
    Vietnamese."""
    if value is None:
        return ""
    pattern = "#,##0." + "#" * decimals if decimals > 0 else "#,##0"
    return str(format_decimal(value, format=pattern, locale=_CLDR_LOCALE[language]))
