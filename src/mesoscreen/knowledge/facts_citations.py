"""Citations of clinical-facts.md by section, with the quoted passage checked word for word.

A figure's source is either passages of sections that support it (``cite``, each quote found
in its section), or an honest "no source: clinic practice" saying why the figure was chosen,
or, for a dose cap of a mixture, "not applicable". Related passages that do not support the
figure go under ``see_also`` and are checked the same way, so nothing is borrowed silently.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mesoscreen.domain.errors import KnowledgeBaseError

_WS = re.compile(r"\s+")
_ITEM_A = re.compile(r"^([A-G]\d{1,2})\. (.*)$")
_HEADING = re.compile(r"^## ([A-G])\.")
_ITEM = re.compile(r"^(\d{1,2})\. (.*)$")
CLINIC_PRACTICE = "no source: clinic practice"
CLINIC_PRACTICE_VI = "không có nguồn: thực hành của cơ sở"
"""How a text says, in each language, that a part of it rests on clinic practice alone."""


def _squash(text: str) -> str:
    """Text with runs of white space folded, for quote matching."""
    return _WS.sub(" ", text).strip()


@cache
def section_texts(sources_dir: Path) -> dict[str, str]:
    """Each section of clinical-facts.md (A1, B10, ...) and its text, white space folded.

    Sections are 'A1.' items, and numbered items under '## B.' style headings; an item runs
    until the next item, heading or blank line.
    """
    text = (sources_dir / "clinical-facts.md").read_text(encoding="utf-8")
    sections: dict[str, list[str]] = {}
    letter: str | None = None
    current: str | None = None
    for line in text.splitlines():
        heading = _HEADING.match(line)
        lettered = _ITEM_A.match(line)
        numbered = _ITEM.match(line)
        if line.startswith("#"):
            # Only lettered headings open numbered sections ("## Five most ..." does not).
            letter, current = (heading.group(1) if heading else None), None
        elif lettered:
            current = lettered.group(1)
            sections[current] = [lettered.group(2)]
        elif numbered and letter:
            current = f"{letter}{numbered.group(1)}"
            sections[current] = [numbered.group(2)]
        elif not line.strip():
            current = None
        elif current is not None:
            sections[current].append(line)
    return {section: _squash(" ".join(lines)) for section, lines in sections.items()}


class QuoteModel(BaseModel):
    """A passage of one section of clinical-facts.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    section: str = Field(pattern=r"^[A-G]\d{1,2}$")
    quote: str = Field(min_length=3)


class SourceModel(BaseModel):
    """Where a figure comes from (see the module docstring for the forms)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cite: list[QuoteModel] = Field(default_factory=list)
    note: str | None = Field(default=None, min_length=3)
    clinic_practice: str | None = Field(default=None, min_length=3)
    see_also: list[QuoteModel] = Field(default_factory=list)
    not_applicable: str | None = Field(default=None, min_length=3)


def check_source(file: str, entry: str, field: str, source: SourceModel, sources_dir: Path) -> None:
    """KnowledgeBaseError unless ``source`` has a supported form and every quote stands word
    for word in its section."""
    if source.not_applicable is not None:
        if source.cite or source.clinic_practice or source.see_also:
            raise KnowledgeBaseError(
                file, entry, f"{field}: 'not_applicable' stands alone (got other source keys)"
            )
    elif not source.cite and source.clinic_practice is None:
        raise KnowledgeBaseError(
            file,
            entry,
            f"{field}: source cites no section (expected 'cite' with a quoted passage, or "
            f"'clinic_practice' saying why)",
        )
    sections = section_texts(sources_dir)
    for quoted in [*source.cite, *source.see_also]:
        text = sections.get(quoted.section)
        if text is None:
            raise KnowledgeBaseError(
                file, entry, f"{field}: cites {quoted.section}, which clinical-facts.md lacks"
            )
        if _squash(quoted.quote) not in text:
            raise KnowledgeBaseError(
                file,
                entry,
                f"{field}: the quote {quoted.quote[:60]!r} is not found word for word in "
                f"section {quoted.section}",
            )


def source_text(source: SourceModel) -> str:
    """The source as one line for people: quotes with their sections, then notes."""
    if source.not_applicable is not None:
        return f"not applicable: {source.not_applicable}"
    parts = [f'{q.section} "{_squash(q.quote)}"' for q in source.cite]
    if source.note:
        parts.append(source.note)
    if source.clinic_practice:
        parts.append(f"{CLINIC_PRACTICE} ({source.clinic_practice})")
    if source.see_also:
        parts.append(
            "see also " + ", ".join(f'{q.section} "{_squash(q.quote)}"' for q in source.see_also)
        )
    return "; ".join(parts)


def source_reference(source: SourceModel) -> str:
    """A short reference for refusals: the sections, or "no source: clinic practice"."""
    if source.not_applicable is not None:
        return "not applicable"
    sections = ", ".join(dict.fromkeys(q.section for q in source.cite))
    if source.clinic_practice and sections:
        return f"{sections}; partly {CLINIC_PRACTICE}"
    return sections or CLINIC_PRACTICE
