"""Move the web pages' words from YAML dictionaries into the gettext catalogues, merging.

Run: python tools/locales_yaml_to_po.py [--delete-yaml] [LOCALES_DIR]

``LOCALES_DIR`` (default ``src/mesoscreen/entrypoints/web/locales``) may hold ``en.po`` and
``vi.po`` already, and ``en.yaml`` / ``vi.yaml`` (whole dictionaries or only new keys, as a
branch written before the move adds them). Every YAML key becomes a message whose id is the
dotted key (``photos.views.front``); a YAML value replaces the catalogue's text for that id
(the YAML is the newer edit), and ids only in the catalogue stay. ``{name}`` places become
gettext's ``%(name)s`` (flagged ``python-format``) and a literal ``%`` becomes ``%%``.
With ``--delete-yaml`` the YAML files are removed once their keys are in the catalogues.

With ``--base REV`` only the keys the YAML adds or changes since git revision ``REV`` are
taken (the YAML at ``REV`` is read with ``git show``), so a branch's whole, older YAML does
not undo wording changed since it forked. Merging a branch written before the move::

    git merge BRANCH          # en.yaml, vi.yaml: deleted here, modified there
    git checkout BRANCH -- src/mesoscreen/entrypoints/web/locales/{en,vi}.yaml
    python tools/locales_yaml_to_po.py --base "$(git merge-base HEAD BRANCH)" --delete-yaml
    python tools/templates_to_gettext.py

The tool prints what it added and changed; it exits 2 naming the file and key when a YAML
value is not text.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

DEFAULT_LOCALES = Path(__file__).resolve().parents[1] / "src/mesoscreen/entrypoints/web/locales"
LANGUAGES = ("en", "vi")
_BRACE_PLACE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_GETTEXT_PLACE = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)s")
HEADER = "Words of the Mesoscreen web pages. Message ids are dotted keys; see README (Translators)."


class YamlValueError(ValueError):
    """A YAML value that is not text (a list, a number, nothing)."""


def flatten(tree: dict[str, Any], source: Path, prefix: str = "") -> dict[str, str]:
    """The dictionary's leaves by dotted key; YamlValueError naming a non-text leaf."""
    leaves: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            leaves.update(flatten(value, source, f"{name}."))
        elif isinstance(value, str):
            leaves[name] = value
        else:
            raise YamlValueError(
                f"{source}: key '{name}': expected text (got {type(value).__name__} {value!r})"
            )
    return leaves


def gettext_text(text: str) -> str:
    """``text`` with ``{name}`` as ``%(name)s`` and ``%`` as ``%%`` (gettext's python-format)."""
    return _BRACE_PLACE.sub(r"%(\1)s", text.replace("%", "%%"))


def read_catalogue(path: Path, language: str) -> Catalog:
    """The catalogue at ``path``, or a new empty one of ``language``."""
    if path.exists():
        with path.open("rb") as file:
            return read_po(file, locale=language)
    catalogue = Catalog(locale=language, project="Mesoscreen", header_comment=f"# {HEADER}")
    catalogue.fuzzy = False
    return catalogue


def write_catalogue(catalogue: Catalog, path: Path) -> None:
    """``catalogue`` as a ``.po`` file, in its own order, lines not wrapped."""
    with path.open("wb") as file:
        write_po(file, catalogue, width=0, omit_header=False, sort_output=False)


def yaml_at(folder: Path, language: str, revision: str) -> dict[str, str]:
    """``language``'s YAML leaves as they were at git ``revision`` (none if it had no file)."""
    shown = subprocess.run(  # noqa: S603  # git, with a revision the person typed
        ["git", "show", f"{revision}:./{language}.yaml"],  # noqa: S607  # git from PATH
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if shown.returncode != 0:
        return {}
    return flatten(yaml.safe_load(shown.stdout) or {}, folder / f"{language}.yaml@{revision}")


def merge_language(
    folder: Path, language: str, base: str | None = None
) -> tuple[list[str], list[str]]:
    """Put ``language``'s YAML keys (those new or changed since ``base``, when given) into its
    catalogue; the ids added and the ids changed."""
    yaml_path = folder / f"{language}.yaml"
    po_path = folder / f"{language}.po"
    catalogue = read_catalogue(po_path, language)
    added: list[str] = []
    changed: list[str] = []
    if yaml_path.exists():
        tree = yaml.safe_load(yaml_path.read_text("utf-8")) or {}
        before = yaml_at(folder, language, base) if base else {}
        for key, value in flatten(tree, yaml_path).items():
            if before.get(key) == value:
                continue  # unchanged on the branch: the catalogue's text is the newer
            text = gettext_text(value)
            # Babel keeps the python-format flag only for ids with places; a dotted id has
            # none, so the places are named in a comment for the translator instead.
            places = sorted(set(_GETTEXT_PLACE.findall(text)))
            comments = [f"keep {' '.join(places)} as they are"] if places else []
            known = catalogue.get(key)
            if known is None:
                added.append(key)
                catalogue.add(key, text, auto_comments=comments)
            elif known.string != text or known.auto_comments != comments:
                changed.append(key)
                known.string = text  # Catalog.add would keep the old text of a known id
                known.auto_comments = comments
    write_catalogue(catalogue, po_path)
    return added, changed


def main(argv: list[str] | None = None) -> int:
    """Merge every language's YAML into its catalogue; exit 2 on a value that is not text."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_LOCALES)
    parser.add_argument("--delete-yaml", action="store_true", help="remove the YAML afterwards")
    parser.add_argument("--base", help="take only keys added or changed since this git revision")
    arguments = parser.parse_args(argv)
    folder: Path = arguments.folder
    try:
        for language in LANGUAGES:
            added, changed = merge_language(folder, language, arguments.base)
            print(f"{language}.po: {len(added)} added, {len(changed)} changed")  # noqa: T201
            for key in added:
                print(f"  + {key}")  # noqa: T201
            for key in changed:
                print(f"  ~ {key}")  # noqa: T201
    except YamlValueError as error:
        print(error, file=sys.stderr)  # noqa: T201
        return 2
    if arguments.delete_yaml:
        for language in LANGUAGES:
            (folder / f"{language}.yaml").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
