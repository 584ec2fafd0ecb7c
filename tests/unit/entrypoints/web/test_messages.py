"""The pages' catalogues as templates read them: only messages, never a dict's methods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, nodes

from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.i18n import Messages, MissingMessageError, messages

TEMPLATES = Path(__file__).parents[4] / "src/mesoscreen/entrypoints/web/templates"
_DICT_METHODS = [name for name in dir(dict) if not name.startswith("_")]


@pytest.mark.parametrize("language", list(Language))
def test_a_message_named_like_a_dict_method_reads_the_message(language: Language) -> None:
    """``t.clear`` is the word for the Clear button, not ``<built-in method clear ...>``."""
    t = messages()[language]
    assert t.clear == t["clear"]
    assert isinstance(t.clear, str)
    assert "built-in" not in t.clear


@pytest.mark.parametrize("name", _DICT_METHODS)
def test_no_dict_method_can_be_read_from_a_catalogue(name: str) -> None:
    """Every public dict method name is either a message or refused, never a method."""
    t = Messages({"clear": "Clear"})
    if name == "clear":
        assert t.clear == "Clear"
        return
    with pytest.raises(MissingMessageError, match=name):
        getattr(t, name)
    with pytest.raises(MissingMessageError, match=name):
        t[name]


def test_an_unknown_message_raises_naming_its_full_key_even_in_a_template() -> None:
    """Jinja does not swallow the refusal into an empty string."""
    t = Messages({"grades": {"1": "mild"}})
    assert t.grades["1"] == "mild"
    with pytest.raises(MissingMessageError, match=r"grades\.9"):
        t.grades["9"]
    template = Environment(autoescape=True).from_string("{{ t.grades.mild }}")
    with pytest.raises(MissingMessageError, match=r"grades\.mild"):
        template.render(t=t)


def _message_keys(node: nodes.Node) -> list[tuple[str, ...]]:
    """The constant key paths a template reads from ``t`` (``t.a.b``, ``t["a"]``)."""
    found = []
    for access in node.find_all((nodes.Getattr, nodes.Getitem)):
        path: list[str] = []
        current: Any = access
        while isinstance(current, (nodes.Getattr, nodes.Getitem)):
            if isinstance(current, nodes.Getattr):
                path.insert(0, current.attr)
            elif isinstance(current.arg, nodes.Const):
                path.insert(0, str(current.arg.value))
            else:
                path = []  # a computed key: only the part before it is checked
            current = current.node
        if isinstance(current, nodes.Name) and current.name == "t" and path:
            found.append(tuple(path))
    return found


def test_every_message_a_template_reads_is_in_both_catalogues() -> None:
    """A typo or a missing key fails here, not on a page in front of a patient."""
    environment = Environment(autoescape=True)
    missing = []
    checked = 0
    for template in sorted(TEMPLATES.glob("*.html")):
        tree = environment.parse(template.read_text("utf-8"))
        for path in _message_keys(tree):
            for language, t in messages().items():
                value: Any = t
                try:
                    for key in path:
                        if not isinstance(value, Messages):
                            break  # a message's own method, e.g. t.greeting.format(...)
                        value = value[key]
                except MissingMessageError:
                    missing.append(f"{template.name}: {'.'.join(path)} ({language.value})")
                checked += 1
    assert checked > 300
    assert missing == []
