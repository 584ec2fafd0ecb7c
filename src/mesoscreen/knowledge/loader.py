"""Load and validate the knowledge base from its data files.

A broken knowledge base (unknown fact, missing or misquoted citation, duplicate id,
bad date rule, ...) fails here, at start-up, with a ``KnowledgeBaseError`` naming
the file, the entry and what is wrong. The content hash covers every data and
source file, so a decision can prove which knowledge it used.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mesoscreen.domain.conditions import Condition
from mesoscreen.domain.errors import KnowledgeBaseError
from mesoscreen.domain.knowledge_base import (
    Action,
    ActionKind,
    Alternative,
    AnswerType,
    Citation,
    Complication,
    ConsistencyCheck,
    DeferralDate,
    Ingredient,
    KnowledgeBase,
    Question,
    Reading,
    ReadingChoice,
    RiskTag,
    Rule,
    SourceConflict,
    Text,
)
from mesoscreen.domain.vocabulary import RULE_OUTCOMES, Category, Outcome
from mesoscreen.knowledge.conditions import ConditionParser, ConditionSyntaxError
from mesoscreen.knowledge.facts_citations import CLINIC_PRACTICE, CLINIC_PRACTICE_VI, section_texts
from mesoscreen.knowledge.schema import (
    ActionModel,
    AlternativeModel,
    CitationModel,
    ComplicationModel,
    ConflictModel,
    ConsistencyCheckModel,
    IngredientModel,
    ManifestModel,
    QuestionModel,
    RiskTagModel,
    RuleModel,
    TextModel,
)
from mesoscreen.knowledge.yaml_files import read_yaml

PACKAGE_DIR = Path(__file__).parent
DEFAULT_DATA_DIR = PACKAGE_DIR / "data"
DEFAULT_SOURCES_DIR = PACKAGE_DIR / "sources"
_WS = re.compile(r"\s+")
_FACTS = "clinical-facts.md"
M = TypeVar("M", bound=BaseModel)


def _squash(text: str) -> str:
    """Text with runs of white space folded, for quote matching."""
    return _WS.sub(" ", text).strip()


def _pydantic_problem(exc: ValidationError) -> str:
    """The first validation error as 'field: message'."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "entry"
    return f"{where}: {first['msg']}"


def _entries(file: str, document: Any, key: str, model: type[M]) -> list[M]:
    """Validate the list under ``key`` entry by entry; duplicate ids are refused."""
    if not isinstance(document, Mapping) or not isinstance(document.get(key), list):
        raise KnowledgeBaseError(file, "-", f"expected a top-level '{key}:' list")
    parsed: list[M] = []
    seen: set[str] = set()
    for index, raw in enumerate(document[key]):
        entry = str(raw.get("id", f"#{index}")) if isinstance(raw, Mapping) else f"#{index}"
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            raise KnowledgeBaseError(file, entry, _pydantic_problem(exc)) from None
        item_id = getattr(item, "id", entry)
        if item_id in seen:
            raise KnowledgeBaseError(file, item_id, "duplicate id")
        seen.add(item_id)
        parsed.append(item)
    return parsed


def _text(model: TextModel) -> Text:
    """Domain text from its model."""
    return Text(en=model.en, vi=model.vi)


class _Loader:
    """One load of the knowledge base: reads files, checks references, builds domain values."""

    def __init__(self, data_dir: Path, sources_dir: Path) -> None:
        self.data_dir = data_dir
        self.sources_dir = sources_dir
        self.sources: dict[str, str] = {}

    def load(self) -> KnowledgeBase:
        """Read, validate and assemble every file."""
        manifest = self._manifest()
        questions = self._questions()
        parser = ConditionParser({q.id: (q.answer_type, q.choices) for q in questions})
        questions = self._question_conditions(questions, parser)
        actions = self._actions()
        risk_tags = self._risk_tags()
        ingredients = self._ingredients(risk_tags)
        conflicts = self._conflicts()
        alternatives = self._alternatives()
        complications = self._complications()
        rules = self._rules(parser, questions, actions, risk_tags, conflicts)
        checks = self._consistency_checks(parser, questions)
        return KnowledgeBase(
            version=manifest.version,
            content_hash=self._content_hash(),
            questions=tuple(questions),
            rules=tuple(rules),
            actions=MappingProxyType({a.id: a for a in actions}),
            alternatives=tuple(alternatives),
            ingredients=tuple(ingredients),
            risk_tags=MappingProxyType({t.id: t for t in risk_tags}),
            complications=tuple(complications),
            conflicts=MappingProxyType({c.id: c for c in conflicts}),
            sources=MappingProxyType({name: s.title for name, s in manifest.sources.items()}),
            consistency_checks=tuple(checks),
        )

    def _manifest(self) -> ManifestModel:
        """The version and the sources, each of which must be shipped."""
        try:
            manifest = ManifestModel.model_validate(read_yaml(self.data_dir / "manifest.yaml"))
        except ValidationError as exc:
            raise KnowledgeBaseError("manifest.yaml", "-", _pydantic_problem(exc)) from None
        for name in manifest.sources:
            path = self.sources_dir / name
            if not path.is_file():
                raise KnowledgeBaseError("manifest.yaml", name, f"source file {path} is missing")
            self.sources[name] = _squash(path.read_text(encoding="utf-8"))
        return manifest

    def _citation(self, file: str, entry: str, model: CitationModel) -> Citation:
        """A citation whose passage must stand word for word in its source."""
        if model.source not in self.sources:
            known = ", ".join(sorted(self.sources))
            raise KnowledgeBaseError(
                file, entry, f"cites unknown source {model.source!r} (expected one of: {known})"
            )
        if _squash(model.passage) not in self.sources[model.source]:
            raise KnowledgeBaseError(
                file, entry, f"cited passage is not found word for word in {model.source}"
            )
        if model.source == _FACTS:
            # The compilation holds many sources: the locator names the section (and so the
            # original source) the passage belongs to, and must be right.
            sections = section_texts(self.sources_dir)
            if model.locator is None or model.locator not in sections:
                raise KnowledgeBaseError(
                    file, entry, f"a citation of {_FACTS} needs a locator naming its section "
                    f"(e.g. C2; got {model.locator!r})",
                )  # fmt: skip
            if _squash(model.passage) not in sections[model.locator]:
                raise KnowledgeBaseError(
                    file, entry, f"cited passage is not found word for word in section "
                    f"{model.locator} of {_FACTS}",
                )  # fmt: skip
        return Citation(source=model.source, passage=_squash(model.passage), locator=model.locator)

    @staticmethod
    def _clinic_practice(file: str, entry: str, reason: str | None, text: TextModel) -> None:
        """A part with no source is declared (``clinic_practice``: why) and said in the text
        people read, in both languages; the text never says so without the declaration."""
        says = (CLINIC_PRACTICE in text.en, CLINIC_PRACTICE_VI in text.vi)
        if reason is None and any(says):
            raise KnowledgeBaseError(
                file, entry, f"the text says '{CLINIC_PRACTICE}' but 'clinic_practice' does not "
                "say why",
            )  # fmt: skip
        if reason is not None and not all(says):
            raise KnowledgeBaseError(
                file, entry, f"'clinic_practice' is declared, so the text must say "
                f"'{CLINIC_PRACTICE}' (en) and '{CLINIC_PRACTICE_VI}' (vi)",
            )  # fmt: skip

    def _questions(self) -> list[Question]:
        """Questions without their conditions (those need every question's type first)."""
        models = _entries(
            "questions.yaml", read_yaml(self.data_dir / "questions.yaml"), "questions",
            QuestionModel,
        )  # fmt: skip
        self._question_models = {m.id: m for m in models}
        questions = []
        for m in models:
            try:
                answer_type = AnswerType(m.type)
            except ValueError:
                allowed = ", ".join(t.value for t in AnswerType)
                raise KnowledgeBaseError(
                    "questions.yaml", m.id, f"type must be one of {allowed} (got {m.type!r})"
                ) from None
            if (answer_type is AnswerType.CHOICE) != bool(m.choices):
                raise KnowledgeBaseError(
                    "questions.yaml", m.id, "choices are required for, and only for, type choice"
                )
            if m.risk_answer is not None and m.risk_answer not in ("yes", "no"):
                raise KnowledgeBaseError(
                    "questions.yaml", m.id, f"risk_answer must be yes or no (got {m.risk_answer!r})"
                )
            questions.append(
                Question(
                    id=m.id,
                    text=_text(m.text),
                    help=_text(m.help) if m.help else None,
                    answer_type=answer_type,
                    required=m.required,
                    section=m.section,
                    choices=tuple(m.choices),
                    risk_answer=m.risk_answer,
                    past_date=m.past_date,
                )
            )
        return questions

    def _question_conditions(
        self, questions: list[Question], parser: ConditionParser
    ) -> list[Question]:
        """Questions with their ``applies_when`` parsed and checked."""
        out: list[Question] = []
        ids = {q.id for q in questions}
        for question in questions:
            question = self._answered_by(question, ids, parser)
            raw = self._question_models[question.id].applies_when
            if raw is None:
                out.append(question)
                continue
            try:
                condition = parser.parse(raw)
            except ConditionSyntaxError as exc:
                raise KnowledgeBaseError(
                    "questions.yaml", question.id, f"applies_when: {exc}"
                ) from None
            earlier = {q.id for q in out}
            for fact in sorted(condition.facts()):
                if fact not in earlier:
                    raise KnowledgeBaseError(
                        "questions.yaml",
                        question.id,
                        f"applies_when reads {fact!r}, which must be a question listed before it",
                    )
            out.append(_replace_applies(question, condition))
        return out

    def _answered_by(self, question: Question, ids: set[str], parser: ConditionParser) -> Question:
        """The question with the answer that answers it when it is not answered, checked."""
        model = self._question_models[question.id].answered_by
        if model is None:
            return question
        if model.question not in ids or model.question == question.id:
            raise KnowledgeBaseError(
                "questions.yaml",
                question.id,
                f"answered_by.question {model.question!r} is not another intake question",
            )
        if question.answer_type is not AnswerType.YES_NO_UNKNOWN:
            raise KnowledgeBaseError(
                "questions.yaml", question.id, "answered_by needs a yes_no_unknown question"
            )
        try:
            condition = parser.parse(model.yes_when)
        except ConditionSyntaxError as exc:
            raise KnowledgeBaseError(
                "questions.yaml", question.id, f"answered_by.yes_when: {exc}"
            ) from None
        if condition.facts() != {model.question}:
            raise KnowledgeBaseError(
                "questions.yaml",
                question.id,
                f"answered_by.yes_when must read only {model.question!r}",
            )
        return replace(question, answered_by=model.question, answered_yes_when=condition)

    def _consistency_checks(
        self, parser: ConditionParser, questions: list[Question]
    ) -> list[ConsistencyCheck]:
        """Checks of answers that contradict each other, each listing questions it reads."""
        file = "consistency.yaml"
        models = _entries(file, read_yaml(self.data_dir / file), "checks", ConsistencyCheckModel)
        ids = {q.id for q in questions}
        checks = []
        for m in models:
            try:
                when = parser.parse(m.when)
            except ConditionSyntaxError as exc:
                raise KnowledgeBaseError(file, m.id, f"when: {exc}") from None
            unknown = [a for a in m.answers if a not in ids]
            if unknown or set(m.answers) != when.facts():
                raise KnowledgeBaseError(
                    file,
                    m.id,
                    f"answers must be exactly the questions 'when' reads "
                    f"{sorted(when.facts())} (got {m.answers})",
                )
            checks.append(
                ConsistencyCheck(
                    id=m.id,
                    when=when,
                    answers=tuple(m.answers),
                    stricter_reading=_text(m.stricter_reading),
                )
            )
        return checks

    def _actions(self) -> list[Action]:
        """Required actions."""
        models = _entries(
            "actions.yaml", read_yaml(self.data_dir / "actions.yaml"), "actions", ActionModel
        )
        actions = []
        for m in models:
            try:
                kind = ActionKind(m.kind)
            except ValueError:
                allowed = ", ".join(k.value for k in ActionKind)
                raise KnowledgeBaseError(
                    "actions.yaml", m.id, f"kind must be one of {allowed} (got {m.kind!r})"
                ) from None
            actions.append(
                Action(
                    id=m.id,
                    kind=kind,
                    text=_text(m.text),
                    specialty=m.specialty,
                    blocks_treatment=m.blocks_treatment,
                )
            )
        return actions

    def _risk_tags(self) -> list[RiskTag]:
        """Risk tags of the ingredient catalogue."""
        document = read_yaml(self.data_dir / "ingredients.yaml")
        self._ingredients_document = document
        models = _entries("ingredients.yaml", document, "risk_tags", RiskTagModel)
        return [RiskTag(id=m.id, name=_text(m.name), synonyms=tuple(m.synonyms)) for m in models]

    def _ingredients(self, risk_tags: list[RiskTag]) -> list[Ingredient]:
        """Ingredients, each tag of which must be a declared risk tag."""
        known = {t.id for t in risk_tags}
        models = _entries(
            "ingredients.yaml", self._ingredients_document, "ingredients", IngredientModel
        )
        for m in models:
            for tag in m.tags:
                if tag not in known:
                    raise KnowledgeBaseError("ingredients.yaml", m.id, f"unknown risk tag {tag!r}")
        return [
            Ingredient(id=m.id, name=_text(m.name), tags=tuple(m.tags), synonyms=tuple(m.synonyms))
            for m in models
        ]

    def _conflicts(self) -> list[SourceConflict]:
        """Source conflicts, each with a default among its readings."""
        file = "conflicts.yaml"
        models = _entries(file, read_yaml(self.data_dir / file), "conflicts", ConflictModel)
        conflicts = []
        for m in models:
            ids = [r.id for r in m.readings]
            if len(set(ids)) != len(ids):
                raise KnowledgeBaseError(file, m.id, "duplicate reading id")
            if m.default not in ids:
                raise KnowledgeBaseError(
                    file, m.id, f"default {m.default!r} is not one of its readings {ids}"
                )
            for r in m.readings:
                self._clinic_practice(file, f"{m.id}.{r.id}", r.clinic_practice, r.summary)
            stricter = {r.id for r in m.readings if r.stricter}
            if m.default not in stricter and m.default_reason is None:
                raise KnowledgeBaseError(
                    file,
                    m.id,
                    f"default {m.default!r} is not the stricter reading: give a default_reason",
                )
            readings = tuple(
                Reading(
                    id=r.id,
                    summary=_text(r.summary),
                    citation=self._citation(file, f"{m.id}.{r.id}", r.citation),
                    stricter=r.stricter,
                )
                for r in m.readings
            )
            conflicts.append(
                SourceConflict(
                    id=m.id,
                    topic=_text(m.topic),
                    readings=readings,
                    default=m.default,
                    default_reason=_text(m.default_reason) if m.default_reason else None,
                )
            )
        return conflicts

    def _alternatives(self) -> list[Alternative]:
        """Safer alternatives with their citations."""
        file = "alternatives.yaml"
        models = _entries(file, read_yaml(self.data_dir / file), "alternatives", AlternativeModel)
        return [
            Alternative(
                id=m.id, text=_text(m.text), citation=self._citation(file, m.id, m.citation)
            )
            for m in models
        ]

    def _complications(self) -> list[Complication]:
        """The complication catalogue."""
        file = "complications.yaml"
        models = _entries(file, read_yaml(self.data_dir / file), "complications", ComplicationModel)
        for m in models:
            if m.protocol is None:
                continue
            # A protocol outside the shipped sources is named, by its identifier, in the
            # description people read in both languages.
            identifier = m.protocol.split(" (")[0]
            if identifier not in m.description.en or identifier not in m.description.vi:
                raise KnowledgeBaseError(
                    file, m.id, f"protocol {identifier!r} must be named in description.en "
                    "and description.vi",
                )  # fmt: skip
        return [
            Complication(
                id=m.id,
                name=_text(m.name),
                description=_text(m.description),
                citation=self._citation(file, m.id, m.citation),
                emergency=m.emergency,
            )
            for m in models
        ]

    def _rules(
        self,
        parser: ConditionParser,
        questions: list[Question],
        actions: list[Action],
        risk_tags: list[RiskTag],
        conflicts: list[SourceConflict],
    ) -> list[Rule]:
        """Rules with every reference checked."""
        file = "rules.yaml"
        models = _entries(file, read_yaml(self.data_dir / file), "rules", RuleModel)
        checker = _RuleChecker(file, questions, actions, risk_tags, conflicts)
        rules = []
        for m in models:
            try:
                when = parser.parse(m.when)
            except ConditionSyntaxError as exc:
                raise KnowledgeBaseError(file, m.id, f"when: {exc}") from None
            self._clinic_practice(file, m.id, m.clinic_practice, m.clinician_text)
            rules.append(
                Rule(
                    id=m.id,
                    category=checker.category(m),
                    when=when,
                    outcome=checker.outcome(m),
                    clinician_text=_text(m.clinician_text),
                    patient_text=_text(m.patient_text),
                    citation=self._citation(file, m.id, m.citation),
                    see_also=tuple(self._citation(file, m.id, c) for c in m.see_also),
                    defer_until=checker.deferral(m),
                    actions=checker.actions(m),
                    excludes_tags=checker.tags(m),
                    excludes_allergens_from=checker.allergen_fact(m),
                    offers_alternatives=m.offers_alternatives,
                    only_under=checker.reading(m),
                    exclusion_lifted_by=checker.lifted_by(m),
                )
            )
        return rules

    def _content_hash(self) -> str:
        """SHA-256 over every data and source file, by name and content."""
        digest = hashlib.sha256()
        for directory in (self.data_dir, self.sources_dir):
            for path in sorted(p for p in directory.iterdir() if p.is_file()):
                digest.update(f"{directory.name}/{path.name}\0".encode())
                digest.update(path.read_bytes())
                digest.update(b"\0")
        return "sha256:" + digest.hexdigest()


def _replace_applies(question: Question, condition: Condition) -> Question:
    """The question with its parsed applicability condition."""
    return replace(question, applies_when=condition)


class _RuleChecker:
    """Cross-reference checks for rules: facts, actions, tags, conflicts, date rules."""

    def __init__(
        self,
        file: str,
        questions: Iterable[Question],
        actions: Iterable[Action],
        risk_tags: Iterable[RiskTag],
        conflicts: Iterable[SourceConflict],
    ) -> None:
        self.file = file
        self.questions = {q.id: q for q in questions}
        self.action_ids = {a.id for a in actions}
        self.tag_ids = {t.id for t in risk_tags}
        self.conflicts = {c.id: c for c in conflicts}

    def _fail(self, rule: RuleModel, problem: str) -> KnowledgeBaseError:
        """An error naming this rule."""
        return KnowledgeBaseError(self.file, rule.id, problem)

    def category(self, m: RuleModel) -> Category:
        """The rule's category from the fixed vocabulary."""
        try:
            return Category(m.category)
        except ValueError:
            allowed = ", ".join(c.value for c in Category)
            raise self._fail(m, f"category must be one of {allowed} (got {m.category!r})") from None

    def outcome(self, m: RuleModel) -> Outcome:
        """An outcome a rule may force."""
        allowed = sorted(o.value for o in RULE_OUTCOMES)
        if m.outcome not in allowed:
            raise self._fail(m, f"outcome must be one of {', '.join(allowed)} (got {m.outcome!r})")
        return Outcome(m.outcome)

    def deferral(self, m: RuleModel) -> DeferralDate | None:
        """A date rule reading a date question, with sensible months."""
        if m.defer_until is None:
            return None
        d = m.defer_until
        question = self.questions.get(d.from_)
        if question is None or question.answer_type is not AnswerType.DATE:
            raise self._fail(
                m, f"bad date rule: defer_until.from {d.from_!r} is not a date question"
            )
        if not 0 < d.months <= 120:
            raise self._fail(m, f"bad date rule: months must be 1..120 (got {d.months})")
        if d.lenient_months is not None and not 0 < d.lenient_months < d.months:
            raise self._fail(
                m,
                f"bad date rule: lenient_months must be 1 to below months ({d.months}) "
                f"(got {d.lenient_months})",
            )
        return DeferralDate(from_fact=d.from_, months=d.months, lenient_months=d.lenient_months)

    def lifted_by(self, m: RuleModel) -> tuple[str, ...]:
        """Actions lifting the rule's exclusions: its own actions, and it must exclude."""
        for action in m.exclusion_lifted_by:
            if action not in m.actions:
                raise self._fail(m, f"exclusion_lifted_by {action!r} is not one of its actions")
        if m.exclusion_lifted_by and not (m.excludes_tags or m.excludes_allergens_from):
            raise self._fail(m, "exclusion_lifted_by needs an exclusion to lift")
        return tuple(m.exclusion_lifted_by)

    def actions(self, m: RuleModel) -> tuple[str, ...]:
        """Declared actions only."""
        for action in m.actions:
            if action not in self.action_ids:
                raise self._fail(m, f"unknown action {action!r}")
        return tuple(m.actions)

    def tags(self, m: RuleModel) -> tuple[str, ...]:
        """Declared risk tags only."""
        for tag in m.excludes_tags:
            if tag not in self.tag_ids:
                raise self._fail(m, f"unknown risk tag {tag!r} in excludes_tags")
        return tuple(m.excludes_tags)

    def allergen_fact(self, m: RuleModel) -> str | None:
        """A list question naming allergens."""
        fact = m.excludes_allergens_from
        if fact is None:
            return None
        question = self.questions.get(fact)
        if question is None or question.answer_type is not AnswerType.TEXT_LIST:
            raise self._fail(m, f"excludes_allergens_from {fact!r} is not a text_list question")
        return fact

    def reading(self, m: RuleModel) -> ReadingChoice | None:
        """An existing conflict and reading."""
        if m.only_under is None:
            return None
        conflict = self.conflicts.get(m.only_under.conflict)
        if conflict is None:
            raise self._fail(m, f"only_under names unknown conflict {m.only_under.conflict!r}")
        if m.only_under.reading not in {r.id for r in conflict.readings}:
            raise self._fail(
                m, f"only_under names unknown reading {m.only_under.reading!r} of {conflict.id}"
            )
        return ReadingChoice(conflict=conflict.id, reading=m.only_under.reading)


def load_knowledge_base(
    data_dir: Path = DEFAULT_DATA_DIR, sources_dir: Path = DEFAULT_SOURCES_DIR
) -> KnowledgeBase:
    """Load and validate the knowledge base; KnowledgeBaseError names any fault."""
    return _Loader(Path(data_dir), Path(sources_dir)).load()


def iter_data_files(data_dir: Path = DEFAULT_DATA_DIR) -> Iterator[Path]:
    """The data files of a knowledge base directory, sorted."""
    return iter(sorted(data_dir.glob("*.yaml")))
