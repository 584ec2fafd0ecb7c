"""The pages' gettext catalogues: complete in every language, read by templates through
Jinja2's i18n extension, strict in tests and forgiving in front of a patient."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import Environment, nodes

from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.i18n import (
    STRICT_MESSAGES_ENV,
    Messages,
    MissingMessageError,
    catalogue_path,
    catalogues,
    incomplete_messages,
    install_gettext,
    messages,
)

TEMPLATES = Path(__file__).parents[4] / "src/mesoscreen/entrypoints/web/templates"
_PLACE = re.compile(r"%\(([A-Za-z_][A-Za-z0-9_]*)\)s")


def _environment() -> Environment:
    environment = Environment(autoescape=True)
    install_gettext(environment)
    return environment


def test_every_message_id_has_a_non_empty_text_in_every_language() -> None:
    """A message a language lacks, or leaves empty, fails here (the completeness check)."""
    assert incomplete_messages() == {language.value: [] for language in Language}
    assert len(catalogues()[Language.EN]) > 300


@pytest.mark.parametrize("language", list(Language))
def test_each_catalogue_is_a_plain_po_file_with_no_fuzzy_or_obsolete_entries(
    language: Language,
) -> None:
    """Translators' tools leave fuzzy and obsolete entries; neither may ship unreviewed."""
    with catalogue_path(language).open("rb") as file:
        catalogue = read_po(file, locale=language.value)
    assert str(catalogue.locale) == language.value
    assert [m.id for m in catalogue if m.id and m.fuzzy] == []
    assert list(catalogue.obsolete) == []


def test_every_translation_keeps_the_places_of_the_english_text() -> None:
    """``%(years)s`` in English is in Vietnamese too, and no language adds a place."""
    english = catalogues()[Language.EN]
    differing = {
        (language.value, key): (_PLACE.findall(english[key]), _PLACE.findall(text))
        for language, texts in catalogues().items()
        for key, text in texts.items()
        if sorted(_PLACE.findall(text)) != sorted(_PLACE.findall(english.get(key, "")))
    }
    assert differing == {}


def test_a_message_named_like_a_dict_method_is_its_words_in_a_template() -> None:
    """The Clear button reads "Clear" / "Xóa…", never ``<built-in method clear ...>``."""
    template = _environment().from_string('{{ _("clear") }}')
    assert template.render(lang="en") == messages()[Language.EN].gettext("clear")
    assert template.render(lang="vi") == messages()[Language.VI].gettext("clear")
    assert "built-in" not in template.render(lang="vi")


def test_places_are_filled_with_escaped_values_and_the_words_are_escaped_too() -> None:
    """A message is text: an apostrophe is escaped as before, and so is a value in a place."""
    environment = _environment()
    rendered = environment.from_string('{{ _("header.age", years="<b>") }}').render(lang="en")
    assert rendered == "&lt;b&gt; years"
    rendered = environment.from_string('{{ _("patient_language") }}').render(lang="en")
    assert rendered == "Patient&#39;s language"


def test_an_unknown_message_fails_the_page_in_strict_mode() -> None:
    """Tests run strict (tests/conftest.py): a typo in an id fails, naming the id."""
    template = _environment().from_string('{{ _("grades." ~ "nine") }}')
    with pytest.raises(MissingMessageError, match=r"grades\.nine"):
        template.render(lang="vi")


def test_a_template_without_a_language_fails_in_strict_mode() -> None:
    """A macro imported without context would not know the page's language."""
    with pytest.raises(MissingMessageError, match="with context"):
        _environment().from_string('{{ _("clear") }}').render()


def test_outside_strict_mode_a_missing_text_falls_back_to_english_then_to_its_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In front of a patient a page is never blank: English, else the id, rather than an error."""
    monkeypatch.delenv(STRICT_MESSAGES_ENV)
    english = Messages(Language.EN, {"clear": "Clear", "only.english": "Only English"})
    vietnamese = Messages(Language.VI, {"clear": "Xóa", "only.english": ""}, english)
    assert vietnamese.gettext("clear") == "Xóa"
    assert vietnamese.gettext("only.english") == "Only English"
    assert vietnamese.gettext("nowhere") == "nowhere"
    assert "only.english" not in vietnamese


def _read_ids(tree: nodes.Node) -> tuple[set[str], set[str]]:
    """The constant ids ``_("a.b")`` and the id prefixes ``_("a." ~ x)`` a template reads."""
    constant, prefixes = set(), set()
    for call in tree.find_all(nodes.Call):
        if not (isinstance(call.node, nodes.Name) and call.node.name in ("_", "gettext")):
            continue
        argument = call.args[0]
        if isinstance(argument, nodes.Const):
            constant.add(str(argument.value))
        elif isinstance(argument, nodes.Concat) and isinstance(argument.nodes[0], nodes.Const):
            prefixes.add(str(argument.nodes[0].value))
    return constant, prefixes


def test_every_message_a_template_reads_is_in_the_catalogues() -> None:
    """A typo in an id, or a group of ids that does not exist, fails here, not on a page."""
    environment = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    ids = set(catalogues()[Language.EN])
    unknown = []
    read = 0
    for template in sorted(TEMPLATES.glob("*.html")):
        constant, prefixes = _read_ids(environment.parse(template.read_text("utf-8")))
        read += len(constant)
        unknown += [f"{template.name}: {key}" for key in sorted(constant - ids)]
        unknown += [
            f"{template.name}: {prefix}*"
            for prefix in sorted(prefixes)
            if not any(key.startswith(prefix) for key in ids)
        ]
    assert read > 250
    assert unknown == []


def test_no_template_reads_words_from_a_dictionary_by_attribute() -> None:
    """Words come through gettext only: no template names a catalogue variable ``t``."""
    environment = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    reading_t = [
        template.name
        for template in sorted(TEMPLATES.glob("*.html"))
        if any(
            name.name == "t" and name.ctx == "load"
            for name in environment.parse(template.read_text("utf-8")).find_all(nodes.Name)
        )
    ]
    assert reading_t == []
