"""Load and validate the consent templates (``consent/<procedure>-<version>.yaml``).

Broken data fails at load with a KnowledgeBaseError naming the file and the fault: a section
naming a complication the knowledge base lacks, two files claiming one version, a missing
language. Each template's hash is the SHA-256 of its content as canonical JSON, so the hash
names the words, not the file's layout.
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
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import read_yaml, validate_document
from mesoscreen.knowledge.schema import TextModel

CONSENT_DIR = Path(__file__).parent / "consent"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Section(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    heading: TextModel
    paragraphs: list[TextModel] = Field(min_length=1)
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


def load_template(path: Path, kb: KnowledgeBase) -> ConsentTemplate:
    """One template file, its complications checked against ``kb``."""
    raw = read_yaml(path)
    model: _Template = validate_document(path, _Template, raw)
    known = {c.id for c in kb.complications}
    for section in model.sections:
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
        hash="sha256:" + canonical_hash(model.model_dump(mode="json")),
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
