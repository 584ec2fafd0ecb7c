"""Informed consent: versioned templates, the document a patient signs, and what a session needs.

A template is data (``knowledge/consent``); the document is the template rendered in one
language with the knowledge base's complications and this patient's screening (findings and
required actions). The document is frozen as signed, with the template's version and hash and
its own hash, so it can always be shown exactly as the patient saw it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from mesoscreen.domain.errors import InputError
from mesoscreen.domain.knowledge_base import Complication, Text
from mesoscreen.domain.names import name_search_key, same_name
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.vocabulary import Language

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 100_000  # a drawn signature is a PNG of a few KB; larger is not one
MAX_SIGNATURE_SIDE_PX = 4000


class SignatureMethod:
    """How the patient signed: a drawing on the screen, or the typed full name, confirmed."""

    DRAWN = "drawn"
    TYPED = "typed"
    ALL = (DRAWN, TYPED)


@dataclass(frozen=True, slots=True)
class TemplateSection:
    """One section of a template: heading, paragraphs, and what the renderer adds to it."""

    id: str
    heading: Text
    paragraphs: tuple[Text, ...]
    complications: tuple[str, ...] = ()  # complication ids, described from the knowledge base
    screening: bool = False  # this patient's findings and required actions go here


@dataclass(frozen=True, slots=True)
class ConsentTemplate:
    """One version of the consent template of a procedure, effective from a date."""

    procedure: str
    version: str
    effective_from: date
    title: Text
    sections: tuple[TemplateSection, ...]
    declaration: Text
    hash: str  # "sha256:" + hex digest of the template file's canonical content


@dataclass(frozen=True, slots=True)
class ConsentTemplates:
    """Every version of every procedure's template."""

    templates: tuple[ConsentTemplate, ...]

    def current(self, procedure: str, today: date) -> ConsentTemplate:
        """The latest version of ``procedure`` in effect on ``today``."""
        in_force = [
            t for t in self.templates if t.procedure == procedure and t.effective_from <= today
        ]
        if not in_force:
            raise InputError(
                f"procedure '{procedure}': no consent template in force on {today}",
                problems=problem(Reason.CONSENT_TEMPLATE_MISSING),
            )
        return max(in_force, key=lambda t: t.effective_from)


def canonical_hash(document: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of ``document`` as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _findings(decision: Mapping[str, Any], language: Language) -> list[dict[str, str]]:
    """What the screening found, in the patient's words where the knowledge base has them."""
    found = []
    for finding in decision.get("findings", []):
        text = finding.get("patient_text") or finding.get("clinician_text") or {}
        found.append({"rule": str(finding.get("rule")), "outcome": str(finding.get("outcome")),
                      "text": str(text.get(language.value) or text.get("en") or "")})  # fmt: skip
    return found


def _actions(decision: Mapping[str, Any], language: Language) -> list[dict[str, str]]:
    return [
        {"id": str(a.get("id")), "text": str((a.get("text") or {}).get(language.value, ""))}
        for a in decision.get("required_actions", [])
    ]


def render_document(
    template: ConsentTemplate,
    complications: Sequence[Complication],
    screening_outcome: str,
    decision: Mapping[str, Any],
    language: Language,
) -> dict[str, Any]:
    """The consent document for one patient in ``language``: plain JSON, ready to freeze."""
    by_id = {c.id: c for c in complications}
    sections = []
    for section in template.sections:
        rendered: dict[str, Any] = {
            "id": section.id,
            "heading": section.heading.in_language(language),
            "paragraphs": [p.in_language(language) for p in section.paragraphs],
        }
        if section.complications:
            rendered["complications"] = [
                {
                    "id": c.id,
                    "name": c.name.in_language(language),
                    "description": c.description.in_language(language),
                    "source": c.citation.source,
                    "passage": c.citation.passage,
                }
                for c in (by_id[cid] for cid in section.complications)
            ]
        if section.screening:
            rendered["screening"] = {
                "outcome": screening_outcome,
                "findings": _findings(decision, language),
                "required_actions": _actions(decision, language),
            }
        sections.append(rendered)
    return {
        "procedure": template.procedure,
        "template_version": template.version,
        "template_hash": template.hash,
        "language": language.value,
        "title": template.title.in_language(language),
        "sections": sections,
        "declaration": template.declaration.in_language(language),
    }


def typed_name_matches(typed: str, family_name: str, given_name: str) -> bool:
    """Whether ``typed`` is the patient's full name, family name first or last, up to case,
    spacing, accents and tone marks (``domain.names.same_name``): a keyboard without
    Vietnamese input signs "Nguyen Van Minh" for "Nguyễn Văn Minh". The words and their order
    within the family and the given name still count."""
    if not name_search_key(typed):
        return False
    return any(
        same_name(typed, full)
        for full in (f"{family_name} {given_name}", f"{given_name} {family_name}")
    )


def check_drawn_signature(data_url: str) -> None:
    """Raise InputError unless ``data_url`` is a PNG data URL of a sensible size."""
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise InputError(
            "'signature': expected a PNG image drawn on the screen",
            problems=problem(Reason.SIGNATURE_NOT_A_DRAWING, "signature"),
        )
    try:
        data = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise InputError(
            "'signature': the drawing is not valid base64",
            problems=problem(Reason.SIGNATURE_NOT_A_DRAWING, "signature"),
        ) from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise InputError(
            f"'signature': must be at most {MAX_SIGNATURE_BYTES} bytes (got {len(data)})",
            problems=problem(Reason.SIGNATURE_NOT_A_DRAWING, "signature"),
        )
    if len(data) < 33 or not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        raise InputError(
            "'signature': expected a PNG image (got other data)",
            problems=problem(Reason.SIGNATURE_NOT_A_DRAWING, "signature"),
        )
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width <= MAX_SIGNATURE_SIDE_PX and 0 < height <= MAX_SIGNATURE_SIDE_PX):
        raise InputError(
            f"'signature': expected a drawing of sensible size (got {width}x{height})",
            problems=problem(Reason.SIGNATURE_NOT_A_DRAWING, "signature"),
        )
