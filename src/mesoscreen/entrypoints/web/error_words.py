"""Refusals in words a clinician uses, in the page's language, from their reason codes.

Errors carry ``problems`` (``domain.reasons``): a reason code, the refused field and the values
the words need. Each reason has a sentence in the catalogues (``refusals``), each field a label
(``field_names``); ids in the values are named as the knowledge base names them (a product, an
ingredient, the finding that excluded it, an action), dates and numbers are written as the
language writes them. A page never shows an error's ``message``: that text is for logs and the
API, which sends the codes themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from mesoscreen.domain.errors import MesoscreenError
from mesoscreen.domain.knowledge_base import KnowledgeBase, Text
from mesoscreen.domain.planner.formulary import Formulary
from mesoscreen.domain.reasons import Param, Problem
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.i18n import Messages, format_date, format_number, message_or

_PLACE = re.compile(r"%\(([A-Za-z_][A-Za-z0-9_]*)\)s")


def placeholders(sentence: str) -> set[str]:
    """The ``%(names)s`` a catalogue sentence fills in."""
    return set(_PLACE.findall(sentence))


class _Filled(dict[str, str]):
    """The values of one sentence; a name the sentence wants but the problem lacks reads as
    "?" rather than failing the page (the catalogue test checks the names)."""

    def __missing__(self, key: str) -> str:
        return "?"


class RefusalWords:
    """Says errors in words, naming ids through the knowledge base and the formulary."""

    def __init__(self, kb: KnowledgeBase, formulary: Formulary) -> None:
        self._names: dict[str, Mapping[str, Text]] = {
            "product": {p.id: p.name for p in formulary.products.values()},
            "ingredient": {i.id: i.name for i in kb.ingredients},
            "finding": {r.id: _headline(r.clinician_text) for r in kb.rules},
            "actions": {a.id: a.text for a in kb.actions.values()},
            "open": {a.id: a.text for a in kb.actions.values()},
        }
        self._questions = {q.id: q.text for q in kb.questions}

    def say(self, error: MesoscreenError, t: Messages, language: Language) -> str:
        """Every problem of ``error`` as a sentence, in ``language``."""
        return " ".join(self.sentences(error, t, language))

    def sentences(self, error: MesoscreenError, t: Messages, language: Language) -> list[str]:
        """One sentence per problem of ``error``."""
        return [self.sentence(p, t, language) for p in error.problems]

    def sentence(self, problem: Problem, t: Messages, language: Language) -> str:
        """``problem`` as a sentence: the field's label, then what is wrong with it."""
        values = _Filled({name: self._value(name, v, t, language)
                          for name, v in problem.params.items()})  # fmt: skip
        words = t.gettext(f"refusals.{problem.code.value}") % values
        label = self.field_label(problem.field, t, language)
        # Without a label the sentence stands alone, so it starts with a capital.
        return f"{label}: {words}" if label else words[:1].upper() + words[1:]

    def field_label(self, field: str | None, t: Messages, language: Language) -> str:
        """A field as the form labels it, an intake question by its text; "" when unknown
        (a sentence then stands alone rather than show a code)."""
        if not field:
            return ""
        base = field.split("[")[0].split(".")[0]
        if f"field_names.{base}" in t:
            return t.gettext(f"field_names.{base}")
        question = self._questions.get(base)
        # A question is quoted: it is a sentence of its own ("…?"), not a field's label.
        return f"“{question.in_language(language.value)}”" if question else ""

    def _value(self, name: str, value: Param, t: Messages, language: Language) -> str:
        names = self._names.get(name)
        if isinstance(value, tuple):
            return ", ".join(_named(names, item, language) for item in value) or "-"
        if isinstance(value, datetime):
            return format_date(value.date(), language)
        if isinstance(value, date):
            return format_date(value, language)
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | float):
            return format_number(value, language)
        if name == "outcome":
            return message_or(t, f"outcomes_short.{value}", value)
        if name == "view":
            return message_or(t, f"photos.views.{value}", value)
        return _named(names, value, language)


def _named(names: Mapping[str, Text] | None, value: str, language: Language) -> str:
    text = names.get(value) if names else None
    return text.in_language(language.value) if text is not None else value


def _headline(text: Text) -> Text:
    """A finding's name: its clinician text up to the first colon (the text names it first)."""
    return Text(text.en.split(":")[0].strip(), text.vi.split(":")[0].strip())
