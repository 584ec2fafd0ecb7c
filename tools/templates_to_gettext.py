"""Rewrite the web templates' catalogue reads (``t.x.y``) as gettext calls (``_("x.y")``).

Run: python tools/templates_to_gettext.py [TEMPLATES_DIR]

A branch written before the move to gettext reads words as ``t.photos.views[p.view]`` or
``t.header.age.format(years=n)``; this rewrites them, in place, to ``_("photos.views." ~
p.view)`` and ``_("header.age", years=n)`` (``.replace('{view}', v)`` becomes ``view=v``;
``c in t.header.categories`` becomes ``has_message("header.categories." ~ (c))``; a ``t``
passed to a macro is dropped and macro imports become ``with context``), the
forms the catalogues (``%(years)s``, see ``locales_yaml_to_po.py``) expect. It prints every file
it changed and every ``t`` it could not rewrite (a bare ``t`` passed to a macro, say), which a
person then edits; run it again until it reports none.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[1] / "src/mesoscreen/entrypoints/web/templates"
_READ = re.compile(r"(?<![\w.])t((?:\.[A-Za-z_][A-Za-z0-9_]*)*)(\[)?")
_BARE = re.compile(r"(?<![\w.'\"])t\b(?![\w'\"])")
_MEMBERSHIP = re.compile(r"([\w.]+(?:\|\w+)?) (not )?in t((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_REPLACE_PLACE = re.compile(r"""^\s*(['"])\{([A-Za-z_][A-Za-z0-9_]*)\}\1\s*,\s*(.*)$""", re.S)


def _closing(text: str, start: int, opening: str, closing: str) -> int:
    """The index just past the bracket closing the one at ``start``."""
    depth = 0
    quote = ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return index + 1
    raise ValueError(f"unbalanced {opening!r} at {start}")


def _arguments(text: str, start: int) -> tuple[list[str], int]:
    """The places given by ``.format(...)`` / ``.replace(...)`` calls at ``start``."""
    places: list[str] = []
    position = start
    while True:
        call = re.match(r"\.(format|replace)\(", text[position:])
        if call is None:
            return places, position
        opening = position + call.end() - 1
        end = _closing(text, opening, "(", ")")
        inner = text[opening + 1 : end - 1]
        if call.group(1) == "format":
            places.append(inner.strip())
        else:
            place = _REPLACE_PLACE.match(inner)
            if place is None:
                return places, position
            places.append(f"{place.group(2)}={place.group(3).strip()}")
        position = end


def _membership(found: re.Match[str]) -> str:
    negation = "not " if found.group(2) else ""
    return f'{negation}has_message("{found.group(3)[1:]}." ~ ({found.group(1)}))'


def _rewrite_expression(text: str) -> str:
    """One Jinja expression (or statement) with its ``t`` reads as gettext calls."""
    text = _MEMBERSHIP.sub(_membership, text)
    out: list[str] = []
    position = 0
    while True:
        found = _READ.search(text, position)
        if found is None:
            out.append(text[position:])
            return "".join(out)
        segments = [s for s in found.group(1).split(".") if s]
        end = found.end(1)
        if not found.group(2) and end < len(text) and text[end] == "(" and segments:
            segments.pop()  # a method of the message (format, replace): handled below
            end = found.start(1) + len("." + ".".join(segments)) if segments else found.start(1)
        if not segments and not found.group(2):
            out.append(text[position : found.end()])
            position = found.end()
            continue
        key = ".".join(segments)
        if found.group(2):
            close = _closing(text, found.start(2), "[", "]")
            inner = _rewrite_expression(text[found.start(2) + 1 : close - 1])
            msgid = f'"{key}." ~ ({inner})' if key else f"({inner})|string"
            end = close
        else:
            msgid = f'"{key}"'
        places, end = _arguments(text, end)
        call = ", ".join([msgid, *(_rewrite_expression(p) for p in places)])
        out.append(text[position : found.start()] + f"_({call})")
        position = end


_PASSED_T = ((re.compile(r",\s*t\s*,\s*"), ", "), (re.compile(r"\(\s*t\s*,\s*"), "("),
             (re.compile(r",\s*t\s*\)"), ")"))  # fmt: skip
_IMPORT = re.compile(r"(\{%-?\s*from\s+\S+\s+import\s+[\w\s,]+?)(\s*-?%\})")


def _without_passed_catalogue(part: str) -> str:
    """A macro's ``t`` argument or parameter dropped (the macro reads words through ``_``),
    and a macro import ``with context`` (so ``_`` knows the page's language)."""
    if not part.startswith(("{{", "{%")):
        return part
    for passed, replacement in _PASSED_T:
        part = passed.sub(replacement, part)
    found = _IMPORT.match(part)
    if found and "with context" not in part:
        part = f"{found.group(1)} with context{found.group(2)}"
    return part


def rewrite(template: str) -> str:
    """The template with every catalogue read inside ``{{ }}`` and ``{% %}`` rewritten."""
    parts = re.split(r"(\{\{.*?\}\}|\{%.*?%\})", template, flags=re.S)
    return "".join(
        _without_passed_catalogue(_rewrite_expression(part))
        if part.startswith(("{{", "{%"))
        else part
        for part in parts
    )


def leftovers(template: str) -> list[str]:
    """The expressions that still name ``t`` (for a person to edit)."""
    parts = re.findall(r"\{\{.*?\}\}|\{%.*?%\}", template, flags=re.S)
    return [part for part in parts if _BARE.search(part)]


def main(argv: list[str] | None = None) -> int:
    """Rewrite every template in the folder; exit 1 when some ``t`` is left to edit by hand."""
    arguments = sys.argv[1:] if argv is None else argv
    folder = Path(arguments[0]) if arguments else DEFAULT_TEMPLATES
    left = 0
    for path in sorted(folder.rglob("*.html")):
        text = path.read_text("utf-8")
        rewritten = rewrite(text)
        if rewritten != text:
            path.write_text(rewritten, "utf-8")
            print(f"rewritten: {path.name}")  # noqa: T201
        for expression in leftovers(rewritten):
            left += 1
            print(f"left for a person in {path.name}: {expression}")  # noqa: T201
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
