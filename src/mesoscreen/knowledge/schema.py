"""Pydantic shapes of the knowledge files: structure only; cross-references are checked in
``loader``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ID = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    """Refuse unknown keys: a misspelt key in a knowledge file is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _yes_no(value: Any) -> Any:
    """YAML 1.1 reads bare yes/no as booleans; read them back as the answers they are."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return value


class TextModel(_Strict):
    """A text in English and Vietnamese, both required."""

    en: str = Field(min_length=1)
    vi: str = Field(min_length=1)


class CitationModel(_Strict):
    """A source file and the passage quoted from it, word for word."""

    source: str = Field(min_length=1)
    passage: str = Field(min_length=10)
    locator: str | None = None


class AnsweredByModel(_Strict):
    """The question whose answer answers this one when it is not answered."""

    question: str
    yes_when: dict[str, Any]


class QuestionModel(_Strict):
    """An intake question."""

    id: str = Field(pattern=_ID)
    section: str = Field(pattern=_ID)
    type: str
    required: bool
    text: TextModel
    help: TextModel | None = None
    choices: list[str] = []
    applies_when: dict[str, Any] | None = None
    risk_answer: str | None = None
    past_date: bool = False
    answered_by: AnsweredByModel | None = None

    _risk = field_validator("risk_answer", mode="before")(_yes_no)


class DeferralModel(_Strict):
    """How a deferral date is computed."""

    from_: str = Field(alias="from")
    months: int
    lenient_months: int | None = None


class ReadingChoiceModel(_Strict):
    """The conflict reading a rule belongs to."""

    conflict: str
    reading: str


class RuleModel(_Strict):
    """A screening rule."""

    id: str = Field(pattern=_ID)
    category: str
    when: dict[str, Any]
    outcome: str
    clinician_text: TextModel
    patient_text: TextModel
    citation: CitationModel
    see_also: list[CitationModel] = []
    defer_until: DeferralModel | None = None
    actions: list[str] = []
    excludes_tags: list[str] = []
    excludes_allergens_from: str | None = None
    offers_alternatives: bool = False
    only_under: ReadingChoiceModel | None = None
    exclusion_lifted_by: list[str] = []
    clinic_practice: str | None = Field(default=None, min_length=10)


class ActionModel(_Strict):
    """A required action."""

    id: str = Field(pattern=_ID)
    kind: str
    text: TextModel
    specialty: str | None = None
    blocks_treatment: bool = True


class AlternativeModel(_Strict):
    """A safer alternative."""

    id: str = Field(pattern=_ID)
    text: TextModel
    citation: CitationModel


class RiskTagModel(_Strict):
    """A risk tag of the ingredient catalogue."""

    id: str = Field(pattern=_ID)
    name: TextModel
    synonyms: list[str] = []


class IngredientModel(_Strict):
    """An ingredient of the catalogue."""

    id: str = Field(pattern=_ID)
    name: TextModel
    tags: list[str] = Field(min_length=1)
    synonyms: list[str] = []


class ComplicationModel(_Strict):
    """A complication for adverse-event records."""

    id: str = Field(pattern=_ID)
    name: TextModel
    description: TextModel
    citation: CitationModel
    emergency: bool = False
    protocol: str | None = Field(default=None, min_length=10)


class ReadingModel(_Strict):
    """One reading of a source conflict."""

    id: str = Field(pattern=_ID)
    summary: TextModel
    citation: CitationModel
    stricter: bool = False
    clinic_practice: str | None = Field(default=None, min_length=10)


class ConflictModel(_Strict):
    """A source conflict."""

    id: str = Field(pattern=_ID)
    topic: TextModel
    default: str
    default_reason: TextModel | None = None
    readings: list[ReadingModel] = Field(min_length=2)


class ConsistencyCheckModel(_Strict):
    """Answers that contradict each other."""

    id: str = Field(pattern=_ID)
    when: dict[str, Any]
    answers: list[str] = Field(min_length=2)
    stricter_reading: TextModel


class SourceModel(_Strict):
    """A source document shipped in knowledge/sources."""

    title: str
    role: str


class ManifestModel(_Strict):
    """The knowledge base's version and sources."""

    version: str = Field(min_length=1)
    title: TextModel
    sources: dict[str, SourceModel]


class PolicyModel(_Strict):
    """A clinic policy file: a name and the chosen reading of some conflicts."""

    name: str = Field(min_length=1)
    readings: dict[str, str] = {}
