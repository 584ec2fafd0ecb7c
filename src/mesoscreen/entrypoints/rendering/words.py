"""The drawings' words and numbers in the reader's language: gettext catalogues and CLDR.

The words are gettext messages: the English text is the message id, and each other language
has a ``locales/<code>.po`` file that translators edit with the usual tools. The catalogue is
read with Babel and compiled in memory once, so no build step is needed. Numbers and dates are
written as the language writes them (CLDR through Babel): ``1,5`` and ``25 thg 11, 2026`` in
Vietnamese, ``1.5`` and ``Nov 25, 2026`` in English.
"""

from __future__ import annotations

import gettext
import io
from datetime import date
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from mesoscreen.domain.vocabulary import Language

LOCALES = Path(__file__).parent / "locales"
# Up to six decimals, as ``:g`` would show a dose such as 0.0005 mg, without exponent notation.
_DECIMAL = "#,##0.######"


class Words:
    """One language's words and number and date formats for a drawing."""

    def __init__(self, language: Language, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._translations = translations

    def __call__(self, message: str, **values: object) -> str:
        """``message`` in this language with ``values`` put in its ``%(name)s`` places."""
        text = self._translations.gettext(message)
        return text % values if values else text

    def number(self, value: float, decimals: int | None = None) -> str:
        """``value`` as this language writes it, rounded to ``decimals`` places when given."""
        if decimals is None:
            pattern = _DECIMAL
        else:
            pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
        return format_decimal(value, format=pattern, locale=self.language.value)

    def date(self, day: date) -> str:
        """``day`` in this language's medium date format."""
        return format_date(day, format="medium", locale=self.language.value)


def catalogue_path(language: Language) -> Path:
    """The ``.po`` file of ``language`` (English has none: its words are the message ids)."""
    return LOCALES / f"{language.value}.po"


@cache
def words(language: Language) -> Words:
    """The words of ``language``, read from its catalogue once."""
    if language is Language.EN:
        return Words(language, gettext.NullTranslations())
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language.value)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Words(language, gettext.GNUTranslations(compiled))
