"""The clinical knowledge base as domain values: questions, rules, catalogues and conflicts.

These are built by ``mesoscreen.knowledge`` from the validated data files; the
domain never reads files itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from mesoscreen.domain.conditions import Condition
from mesoscreen.domain.vocabulary import Category, Language, Outcome


@dataclass(frozen=True, slots=True)
class Text:
    """A clinical text in every language the product speaks."""

    en: str
    vi: str

    def in_language(self, language: Language | str) -> str:
        """The text in ``language`` (English when the language is not carried)."""
        return self.vi if Language(language) is Language.VI else self.en

    def as_dict(self) -> dict[str, str]:
        """Both languages keyed by language code."""
        return {"en": self.en, "vi": self.vi}


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule's knowledge comes from: a source file and the passage it rests on."""

    source: str
    passage: str
    locator: str | None = None

    def as_dict(self) -> dict[str, str]:
        """JSON form; ``locator`` (e.g. a section id) only when present."""
        out = {"source": self.source, "passage": self.passage}
        if self.locator:
            out["locator"] = self.locator
        return out


class AnswerType(StrEnum):
    """The form an intake answer takes."""

    YES_NO_UNKNOWN = "yes_no_unknown"
    DATE = "date"
    CHOICE = "choice"
    TEXT_LIST = "text_list"


@dataclass(frozen=True, slots=True)
class Question:
    """One intake question; ``applies_when`` hides it when definitely not relevant."""

    id: str
    text: Text
    answer_type: AnswerType
    required: bool
    section: str
    help: Text | None = None
    choices: tuple[str, ...] = ()
    applies_when: Condition | None = None
    # The answer that means more risk (for yes/no questions); None when neither does.
    risk_answer: str | None = None
    # When this question is not answered, an answer to ``answered_by`` answers it: yes when
    # ``answered_yes_when`` holds on the intake, else no (a weaning date answers "weaned?").
    answered_by: str | None = None
    answered_yes_when: Condition | None = None
    # Dates that must not lie after the screening date (dates of past events).
    past_date: bool = False


@dataclass(frozen=True, slots=True)
class DeferralDate:
    """How a deferral's end is computed: a date fact plus whole calendar months."""

    from_fact: str
    months: int
    lenient_months: int | None = None  # the earlier date of a lenient reading, shown beside


@dataclass(frozen=True, slots=True)
class ReadingChoice:
    """The reading of a source conflict under which a rule is active."""

    conflict: str
    reading: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A screening rule: when it fires, the outcome it forces and why, with its source."""

    id: str
    category: Category
    when: Condition
    outcome: Outcome
    clinician_text: Text
    patient_text: Text
    citation: Citation
    defer_until: DeferralDate | None = None
    actions: tuple[str, ...] = ()
    excludes_tags: tuple[str, ...] = ()
    excludes_allergens_from: str | None = None
    offers_alternatives: bool = False
    only_under: ReadingChoice | None = None
    see_also: tuple[Citation, ...] = ()
    # Actions (all among ``actions``) whose recording as done lifts the rule's exclusions.
    exclusion_lifted_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConsistencyCheck:
    """Answers that contradict each other when ``when`` holds on the answers as given."""

    id: str
    when: Condition
    answers: tuple[str, ...]
    stricter_reading: Text


class ActionKind(StrEnum):
    """What kind of step a required action is, so records know what to capture."""

    ALLERGY_TEST = "allergy_test"
    SKIN_ASSESSMENT = "skin_assessment"
    SPECIALIST_CLEARANCE = "specialist_clearance"
    MEDICAL_REVIEW = "medical_review"
    RESCREEN = "rescreen"


@dataclass(frozen=True, slots=True)
class Action:
    """A step the clinic must take and record before treatment."""

    id: str
    kind: ActionKind
    text: Text
    specialty: str | None = None
    blocks_treatment: bool = True


@dataclass(frozen=True, slots=True)
class Alternative:
    """A safer measure the source gives for people who must wait."""

    id: str
    text: Text
    citation: Citation


@dataclass(frozen=True, slots=True)
class Ingredient:
    """An injectable ingredient, its names and the risk tags screening findings act on."""

    id: str
    name: Text
    tags: tuple[str, ...]
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RiskTag:
    """A class of ingredient (vasodilator, growth factor, ...) with the words an allergy may use."""

    id: str
    name: Text
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Complication:
    """A complication the source lists, for adverse-event records."""

    id: str
    name: Text
    description: Text
    citation: Citation
    emergency: bool = False


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading of a passage where the sources disagree."""

    id: str
    summary: Text
    citation: Citation
    stricter: bool = False


@dataclass(frozen=True, slots=True)
class SourceConflict:
    """A point where sources (or one source) disagree; a clinic policy picks the reading."""

    id: str
    topic: Text
    readings: tuple[Reading, ...]
    default: str
    default_reason: Text | None = None  # why the default is not the stricter reading

    def reading(self, reading_id: str) -> Reading:
        """The reading with ``reading_id`` (the caller has checked it exists)."""
        return next(r for r in self.readings if r.id == reading_id)


@dataclass(frozen=True, slots=True, eq=False)
class KnowledgeBase:
    """Everything the screening engine knows, with the version and hash decisions record.

    Compared and hashed by identity: one loaded knowledge base is one object.
    """

    version: str
    content_hash: str
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    actions: Mapping[str, Action]
    alternatives: tuple[Alternative, ...]
    ingredients: tuple[Ingredient, ...]
    risk_tags: Mapping[str, RiskTag]
    complications: tuple[Complication, ...]
    conflicts: Mapping[str, SourceConflict]
    sources: Mapping[str, str] = field(default_factory=dict)
    consistency_checks: tuple[ConsistencyCheck, ...] = ()

    def question(self, question_id: str) -> Question:
        """The question with ``question_id``; KeyError if there is none."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)
