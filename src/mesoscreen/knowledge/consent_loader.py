"""Load and validate the consent templates (``consent/<procedure>-<version>.yaml``).

Broken data fails at load with a KnowledgeBaseError naming the file and the fault: a section
naming a complication the knowledge base lacks, two files claiming one version, a missing
language, a paragraph source not quoted word for word from its clinical-facts.md section.
Each template's hash is the SHA-256 of its content as canonical JSON, so the hash names the
words, not the file's layout (a paragraph without sources hashes as it always did).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mesoscreen.domain.consent import (
    ConsentTemplate,
    ConsentTemplates,
    TemplateSection,
    canonical_hash,
)
from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.domain.knowledge_base import KnowledgeBase, Text
from mesoscreen.knowledge import DEFAULT_SOURCES_DIR, default_knowledge_base
from mesoscreen.knowledge.facts_citations import QuoteModel, check_source
from mesoscreen.knowledge.facts_citations import SourceModel as FactsSourceModel
from mesoscreen.knowledge.planning_loader import validate_document
from mesoscreen.knowledge.schema import TextModel
from mesoscreen.knowledge.yaml_files import read_yaml

CONSENT_DIR = Path(__file__).parent / "consent"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Paragraph(TextModel):
    """A paragraph; a clinical statement cites clinical-facts.md sections that support it."""

    sources: list[QuoteModel] = Field(default_factory=list)


class _Section(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    heading: TextModel
    paragraphs: list[_Paragraph] = Field(min_length=1)
    complications: list[str] = []
    screening: bool = False


class _Template(_Strict):
    procedure: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str = Field(min_length=1, max_length=20)
    effective_from: date
    title: TextModel
    sections: list[_Section] = Field(min_length=1)
    declaration: TextModel


def _text(model: TextModel) -> Text:
    return Text(en=model.en, vi=model.vi)


def _hashed_content(model: _Template) -> dict[str, object]:
    """The template as hashed: paragraphs without sources exactly as before sources existed."""
    content = model.model_dump(mode="json")
    for section in content["sections"]:
        for paragraph in section["paragraphs"]:
            if not paragraph["sources"]:
                del paragraph["sources"]
    return content


def load_template(
    path: Path, kb: KnowledgeBase, sources_dir: Path = DEFAULT_SOURCES_DIR
) -> ConsentTemplate:
    """One template file, its complications checked against ``kb``."""
    raw = read_yaml(path)
    model: _Template = validate_document(path, _Template, raw)
    known = {c.id for c in kb.complications}
    for section in model.sections:
        for index, paragraph in enumerate(section.paragraphs):
            if paragraph.sources:
                check_source(path.name, section.id, f"paragraphs[{index}].sources",
                             FactsSourceModel(cite=paragraph.sources), sources_dir)  # fmt: skip
        unknown = sorted(set(section.complications) - known)
        if unknown:
            raise KnowledgeBaseError(
                path.name, section.id, f"complications: not in the knowledge base: {unknown}"
            )
    if sum(s.screening for s in model.sections) != 1:
        raise KnowledgeBaseError(
            path.name, "sections", "expected exactly one section with 'screening: true'"
        )
    return ConsentTemplate(
        procedure=model.procedure,
        version=model.version,
        effective_from=model.effective_from,
        title=_text(model.title),
        sections=tuple(
            TemplateSection(
                id=s.id,
                heading=_text(s.heading),
                paragraphs=tuple(_text(p) for p in s.paragraphs),
                complications=tuple(s.complications),
                screening=s.screening,
            )
            for s in model.sections
        ),
        declaration=_text(model.declaration),
        hash="sha256:" + canonical_hash(_hashed_content(model)),
    )


def load_consent_templates(kb: KnowledgeBase, folder: Path = CONSENT_DIR) -> ConsentTemplates:
    """Every template in ``folder``; one file per procedure and version."""
    templates: list[ConsentTemplate] = []
    seen: dict[tuple[str, str], str] = {}
    for path in sorted(folder.glob("*.yaml")):
        template = load_template(path, kb)
        key = (template.procedure, template.version)
        if key in seen:
            raise KnowledgeBaseError(
                path.name, template.version, f"version already defined in {seen[key]}"
            )
        seen[key] = path.name
        templates.append(template)
    if not templates:
        raise KnowledgeBaseError(folder.name, "-", "no consent template found")
    return ConsentTemplates(tuple(templates))


@cache
def default_consent_templates() -> ConsentTemplates:
    """The packaged templates, checked against the packaged knowledge base."""
    return load_consent_templates(default_knowledge_base())
