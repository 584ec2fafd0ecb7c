"""The tools that move words from YAML dictionaries to gettext: merging catalogues and
rewriting templates, so branches written before the move can be merged after it."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.pofile import read_po

TOOLS = Path(__file__).parents[3] / "tools"


def _tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


yaml_to_po = _tool("locales_yaml_to_po")
templates = _tool("templates_to_gettext")


def _texts(path: Path, language: str) -> dict[str, str]:
    with path.open("rb") as file:
        return {str(m.id): str(m.string) for m in read_po(file, locale=language) if m.id}


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, "utf-8")


def test_new_yaml_keys_join_the_catalogues_and_the_yaml_is_deleted(tmp_path: Path) -> None:
    """A branch's new keys (nested, with places and a percent) land in both .po files."""
    for language, word in (("en", "Save"), ("vi", "Lưu")):
        _write(tmp_path, f"{language}.yaml", f'save: "{word}"\n')
    assert yaml_to_po.main([str(tmp_path), "--delete-yaml"]) == 0
    _write(tmp_path, "en.yaml", 'today:\n  ending: "Within {days} days, 5% left"\nsave: "Store"\n')
    _write(tmp_path, "vi.yaml", 'today:\n  ending: "Trong {days} ngày, còn 5%"\n')
    assert yaml_to_po.main([str(tmp_path), "--delete-yaml"]) == 0
    assert _texts(tmp_path / "en.po", "en") == {
        "save": "Store",  # the YAML is the newer edit
        "today.ending": "Within %(days)s days, 5%% left",
    }
    assert _texts(tmp_path / "vi.po", "vi") == {
        "save": "Lưu",  # a key only in the catalogue stays
        "today.ending": "Trong %(days)s ngày, còn 5%%",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["en.po", "vi.po"]


def test_merging_twice_changes_nothing(tmp_path: Path) -> None:
    """The lead can re-run the tool after every merge."""
    _write(tmp_path, "en.yaml", 'a:\n  b: "At least {min}"\n')
    _write(tmp_path, "vi.yaml", 'a:\n  b: "Ít nhất {min}"\n')
    assert yaml_to_po.main([str(tmp_path)]) == 0
    first = (tmp_path / "vi.po").read_bytes()
    assert yaml_to_po.main([str(tmp_path)]) == 0
    assert (tmp_path / "vi.po").read_bytes() == first
    assert "#. keep %(min)s as they are" in first.decode()


def test_a_yaml_value_that_is_not_text_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A list where words belong is refused, and no YAML is deleted."""
    _write(tmp_path, "en.yaml", "group:\n  words: [a, b]\n")
    assert yaml_to_po.main([str(tmp_path), "--delete-yaml"]) == 2
    assert "'group.words': expected text (got list" in capsys.readouterr().err
    assert (tmp_path / "en.yaml").exists()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("{{ t.save }}", '{{ _("save") }}'),
        ("{{ t.photos.views[p.view] }}", '{{ _("photos.views." ~ (p.view)) }}'),
        ("{{ t[p.sex] }}", "{{ _((p.sex)|string) }}"),
        ("{{ t.header.age.format(years=h.age) }}", '{{ _("header.age", years=h.age) }}'),
        (
            "{{ t.photos.alt.replace('{view}', t.views[v]).replace('{date}', date(d)) }}",
            '{{ _("photos.alt", view=_("views." ~ (v)), date=date(d)) }}',
        ),
        (
            "{{ t.c[x] if x in t.c else t.c.other }}",
            '{{ _("c." ~ (x)) if has_message("c." ~ (x)) else _("c.other") }}',
        ),
        ("{% set t2 = t.save %}<p>t.save</p>", '{% set t2 = _("save") %}<p>t.save</p>'),
        ("{{ chart.name.in_language(lang) }}", "{{ chart.name.in_language(lang) }}"),
    ],
)
def test_catalogue_reads_in_templates_become_gettext_calls(before: str, after: str) -> None:
    """Reads inside ``{{ }}`` and ``{% %}`` are rewritten; text and other names are not."""
    assert templates.rewrite(before) == after
    assert templates.leftovers(after) == []


def test_a_catalogue_passed_to_a_macro_is_dropped_and_the_import_keeps_the_context() -> None:
    """The macro reads words through ``_``, which needs the page's language."""
    before = (
        '{% from "m.html" import caption %}{{ caption(p, t, date) }}'
        "{% macro caption(p, t, date) -%}{{ t.photos.open }}{%- endmacro %}"
    )
    assert templates.rewrite(before) == (
        '{% from "m.html" import caption with context %}{{ caption(p, date) }}'
        '{% macro caption(p, date) -%}{{ _("photos.open") }}{%- endmacro %}'
    )


def test_a_catalogue_passed_whole_is_left_for_a_person(tmp_path: Path) -> None:
    """A ``t`` the tool cannot place (a lone argument) is listed, and the tool exits 1."""
    _write(tmp_path, "a.html", "{{ describe(t) }}")
    assert templates.main([str(tmp_path)]) == 1
    assert templates.leftovers("{{ describe(t) }}") == ["{{ describe(t) }}"]


def test_with_a_base_only_the_branchs_own_changes_are_taken(tmp_path: Path) -> None:
    """A branch's whole YAML, older than the catalogue, does not undo newer wording."""
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    _write(tmp_path, "en.yaml", 'save: "Save"\nclear: "Clear"\n')
    for command in (["init", "-q"], ["add", "en.yaml"], ["commit", "-qm", "fork point"]):
        subprocess.run([*git, *command], check=True)  # noqa: S603  # fixed git commands
    _write(tmp_path, "vi.yaml", "")
    assert yaml_to_po.main([str(tmp_path), "--delete-yaml"]) == 0
    _write(tmp_path, "en.yaml", 'save: "Store"\n')  # wording changed after the fork (on main)
    assert yaml_to_po.main([str(tmp_path), "--delete-yaml"]) == 0
    # The branch's YAML: "save" as at the fork, "clear" reworded, "undo" new.
    _write(tmp_path, "en.yaml", 'save: "Save"\nclear: "Clear all"\nundo: "Undo"\n')
    assert yaml_to_po.main([str(tmp_path), "--base", "HEAD", "--delete-yaml"]) == 0
    assert _texts(tmp_path / "en.po", "en") == {
        "save": "Store",
        "clear": "Clear all",
        "undo": "Undo",
    }
