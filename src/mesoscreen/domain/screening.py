"""The screening engine: evaluate every rule on an intake and combine the findings.

The outcome is the most severe of ``contraindicated``/``deferred``/
``specialist_clearance`` found; if none, ``incomplete`` when any question that
applies is unanswered or ``unknown`` (or a rule could not be decided or failed);
else ``precautions`` if any; else ``eligible``. A rule that raises fails closed:
it becomes an error finding whose outcome is ``incomplete``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from mesoscreen.domain.conditions import Facts, FactValue, Truth, is_known
from mesoscreen.domain.dates import add_months
from mesoscreen.domain.decision import (
    ConflictNote,
    Decision,
    ExcludedIngredient,
    Finding,
    RequiredAction,
)
from mesoscreen.domain.intake import Intake
from mesoscreen.domain.knowledge_base import KnowledgeBase, Rule, Text
from mesoscreen.domain.policy import Policy
from mesoscreen.domain.vocabulary import Category, Outcome

_RULE_ERROR_TEXT = Text(
    en="This rule could not be evaluated, so this point is not cleared. "
    "Assess it yourself and report the fault.",
    vi="Không thể đánh giá quy tắc này nên mục này chưa được xác nhận an toàn. "
    "Hãy tự đánh giá và báo lỗi.",
)
_RULE_ERROR_PATIENT_TEXT = Text(
    en="One safety check could not be completed; your doctor will review it with you.",
    vi="Một bước kiểm tra an toàn chưa hoàn tất; bác sĩ sẽ xem xét cùng bạn.",
)
_SPACES = re.compile(r"[\s\-_/]+")


def normalise_term(term: str) -> str:
    """Case- and spacing-insensitive form of an ingredient name or allergen."""
    return _SPACES.sub(" ", term.casefold()).strip()


@dataclass(frozen=True, slots=True)
class _AllergenTarget:
    """Ingredients a term names, and how (the ingredient itself or a risk tag)."""

    ingredients: tuple[str, ...]
    via: str


class Screener:
    """Screens intakes against one knowledge base under one clinic policy.

    Built once (it indexes the rules and the ingredient names) and reused for
    every intake: ``evaluate`` does no I/O and reads no clock.
    """

    def __init__(self, kb: KnowledgeBase, policy: Policy) -> None:
        self.kb = kb
        self.policy = policy
        self._rules = tuple(
            rule
            for rule in kb.rules
            if rule.only_under is None
            or policy.reading_for(rule.only_under.conflict) == rule.only_under.reading
        )
        self._rule_by_id = {rule.id: rule for rule in self._rules}
        self._rule_facts = {rule.id: tuple(sorted(rule.when.facts())) for rule in self._rules}
        self._ingredients = {i.id: i for i in kb.ingredients}
        self._by_tag: dict[str, list[str]] = {}
        for ingredient in kb.ingredients:
            for tag in ingredient.tags:
                self._by_tag.setdefault(tag, []).append(ingredient.id)
        self._allergen_terms = self._index_allergen_terms()
        self._longest_term = max((len(t.split()) for t in self._allergen_terms), default=1)
        self._gated = tuple(
            (q.id, q.applies_when, q.applies_when.facts())
            for q in kb.questions
            if q.applies_when is not None
        )
        self._question_order = tuple(q.id for q in kb.questions)
        self._question_ids = frozenset(self._question_order)
        self._required_ids = frozenset(q.id for q in kb.questions if q.required)
        self._rule_reads = tuple((rule, rule.when.facts()) for rule in self._rules)
        read: set[str] = set()
        for rule in self._rules:
            read |= rule.when.facts()
            if rule.defer_until is not None:
                read.add(rule.defer_until.from_fact)
            if rule.excludes_allergens_from is not None:
                read.add(rule.excludes_allergens_from)
        for _, _, reads in self._gated:
            read |= reads
        self.facts_read: frozenset[str] = frozenset(read)
        """Every fact whose value can change a decision; of the others, a decision depends
        only on whether they are answered (a bulk screener can share decisions on that)."""

    def _index_allergen_terms(self) -> dict[str, _AllergenTarget]:
        """Every word that names an ingredient or a risk tag, normalised."""
        terms: dict[str, _AllergenTarget] = {}
        for tag in self.kb.risk_tags.values():
            members = tuple(self._by_tag.get(tag.id, ()))
            for term in (tag.id, tag.name.en, tag.name.vi, *tag.synonyms):
                terms[normalise_term(term)] = _AllergenTarget(members, f"tag:{tag.id}")
        for ingredient in self.kb.ingredients:
            names = (ingredient.id, ingredient.name.en, ingredient.name.vi, *ingredient.synonyms)
            for term in names:
                terms[normalise_term(term)] = _AllergenTarget((ingredient.id,), "ingredient")
        return terms

    def evaluate(self, intake: Intake, on: date) -> Decision:
        """The decision for ``intake`` on the screening date ``on``."""
        facts = intake.facts
        known = {key for key, value in facts.items() if is_known(value)}
        not_applicable = self._not_applicable(facts, on, known)
        unknown = self._question_ids - known - not_applicable
        missing = self._required_ids & unknown
        findings: list[Finding] = []
        for rule, reads in self._rule_reads:
            if reads.isdisjoint(known):
                # Every fact it reads is unknown: in Kleene logic (no constants) the rule is
                # undecided, so all of them must be asked; no need to evaluate it.
                missing |= reads & unknown
                continue
            try:
                truth = rule.when.evaluate(facts, on)
                if truth is Truth.TRUE:
                    findings.append(self._finding(rule, facts))
                elif truth is Truth.UNKNOWN:
                    # Undecided: every unknown fact it reads must be asked, unless the
                    # knowledge base says that question definitely does not apply here.
                    missing |= reads & unknown
            except Exception as exc:
                findings.append(self._error_finding(rule, facts, exc))
        ordered = tuple(qid for qid in self._question_order if qid in missing)
        return self._combine(findings, ordered, facts, on)

    def _not_applicable(self, facts: Facts, on: date, known: set[str]) -> set[str]:
        """Questions that definitely do not apply: their condition is false, or they follow
        up a question that does not apply (questions come after the ones they depend on)."""
        out: set[str] = set()
        for question_id, condition, reads in self._gated:
            if not out.isdisjoint(reads) or (
                not reads.isdisjoint(known) and condition.evaluate(facts, on) is Truth.FALSE
            ):
                out.add(question_id)
        return out

    def _evidence(self, rule: Rule, facts: Facts) -> MappingProxyType[str, FactValue]:
        """The facts the rule read, as the intake gave them."""
        return MappingProxyType(
            {fact: facts.get(fact, "unknown") for fact in self._rule_facts[rule.id]}
        )

    def _finding(self, rule: Rule, facts: Facts) -> Finding:
        """The finding of a rule that fired, with its deferral dates and conflict note."""
        until = cautious = None
        if rule.defer_until is not None:
            start = facts.get(rule.defer_until.from_fact)
            if isinstance(start, date):
                until = add_months(start, rule.defer_until.months)
                if rule.defer_until.cautious_months is not None:
                    cautious = add_months(start, rule.defer_until.cautious_months)
        conflict = None
        if rule.only_under is not None:
            source_conflict = self.kb.conflicts[rule.only_under.conflict]
            conflict = ConflictNote(
                conflict=source_conflict.id,
                topic=source_conflict.topic,
                chosen=rule.only_under.reading,
                readings=source_conflict.readings,
            )
        return Finding(
            rule=rule.id,
            category=rule.category,
            outcome=rule.outcome,
            clinician_text=rule.clinician_text,
            patient_text=rule.patient_text,
            citation=rule.citation,
            see_also=rule.see_also,
            evidence=self._evidence(rule, facts),
            until=until,
            cautious_until=cautious,
            actions=rule.actions,
            excludes_tags=rule.excludes_tags,
            conflict=conflict,
        )

    def _error_finding(self, rule: Rule, facts: Facts, exc: Exception) -> Finding:
        """A failed rule, kept visible and never read as clear."""
        try:
            evidence = self._evidence(rule, facts)
        except Exception:
            evidence = MappingProxyType({})
        return Finding(
            rule=rule.id,
            category=Category.RULE_ERROR,
            outcome=Outcome.INCOMPLETE,
            clinician_text=_RULE_ERROR_TEXT,
            patient_text=_RULE_ERROR_PATIENT_TEXT,
            citation=rule.citation,
            evidence=evidence,
            error=type(exc).__name__,
        )

    def _combine(
        self, findings: list[Finding], missing: tuple[str, ...], facts: Facts, on: date
    ) -> Decision:
        """Fold findings and missing answers into the decision."""
        if not findings:
            return Decision(
                outcome=Outcome.INCOMPLETE if missing else Outcome.ELIGIBLE,
                earliest_date=None,
                screening_date=on,
                findings=(),
                missing=missing,
                required_actions=(),
                excluded_ingredient_tags=(),
                excluded_ingredients=(),
                unmatched_allergens=(),
                alternatives=(),
                knowledge_base_version=self.kb.version,
                knowledge_base_hash=self.kb.content_hash,
                policy=self.policy,
            )
        allergens = self._allergens(findings, facts)
        worst = Outcome.INCOMPLETE if missing else Outcome.ELIGIBLE
        for finding in findings:
            if finding.outcome.severity > worst.severity:
                worst = finding.outcome
        return Decision(
            outcome=worst,
            earliest_date=self._earliest_date(worst, findings),
            screening_date=on,
            findings=tuple(findings),
            missing=missing,
            required_actions=self._required_actions(findings),
            excluded_ingredient_tags=tuple(
                dict.fromkeys(tag for f in findings for tag in f.excludes_tags)
            ),
            excluded_ingredients=self._excluded_ingredients(findings, allergens),
            unmatched_allergens=tuple(
                allergen for _, allergen in allergens if not self._match_allergen(allergen)
            ),
            alternatives=self.kb.alternatives if self._offers_alternatives(findings) else (),
            knowledge_base_version=self.kb.version,
            knowledge_base_hash=self.kb.content_hash,
            policy=self.policy,
        )

    @staticmethod
    def _earliest_date(outcome: Outcome, findings: list[Finding]) -> date | None:
        """For a deferral: the latest end date of all deferrals, or None if any is open-ended."""
        if outcome is not Outcome.DEFERRED:
            return None
        ends = [f.until for f in findings if f.outcome is Outcome.DEFERRED]
        if not ends or any(end is None for end in ends):
            return None
        return max(end for end in ends if end is not None)

    def _required_actions(self, findings: list[Finding]) -> tuple[RequiredAction, ...]:
        """Each action once, with every finding that asks for it."""
        by_action: dict[str, list[str]] = {}
        for finding in findings:
            for action_id in finding.actions:
                by_action.setdefault(action_id, []).append(finding.rule)
        return tuple(
            RequiredAction(action=self.kb.actions[action_id], required_by=tuple(rules))
            for action_id, rules in by_action.items()
        )

    def _allergens(self, findings: list[Finding], facts: Facts) -> list[tuple[str, str]]:
        """(rule id, allergen) for every allergen named in a fired rule's allergen fact."""
        rules = self._rule_by_id
        pairs: list[tuple[str, str]] = []
        for finding in findings:
            rule = rules.get(finding.rule)
            if rule is None or rule.excludes_allergens_from is None:
                continue
            named = facts.get(rule.excludes_allergens_from)
            if isinstance(named, tuple):
                pairs.extend((rule.id, allergen) for allergen in named)
        return pairs

    def _match_allergen(self, allergen: str) -> list[_AllergenTarget]:
        """Catalogue terms the allergen names: the whole text, or whole words within it."""
        words = normalise_term(allergen).split()
        found: list[_AllergenTarget] = []
        for size in range(min(self._longest_term, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                target = self._allergen_terms.get(" ".join(words[start : start + size]))
                if target is not None:
                    found.append(target)
        return found

    def _excluded_ingredients(
        self, findings: list[Finding], allergens: list[tuple[str, str]]
    ) -> tuple[ExcludedIngredient, ...]:
        """Ingredients ruled out by a finding's risk tags or by a named allergen."""
        excluded: dict[str, ExcludedIngredient] = {}
        for finding in findings:
            for tag in finding.excludes_tags:
                for ingredient_id in self._by_tag.get(tag, ()):
                    excluded.setdefault(
                        ingredient_id,
                        ExcludedIngredient(
                            ingredient=ingredient_id,
                            name=self._ingredients[ingredient_id].name,
                            rule=finding.rule,
                            reason=f"tag:{tag}",
                        ),
                    )
        for rule_id, allergen in allergens:
            for target in self._match_allergen(allergen):
                for ingredient_id in target.ingredients:
                    excluded.setdefault(
                        ingredient_id,
                        ExcludedIngredient(
                            ingredient=ingredient_id,
                            name=self._ingredients[ingredient_id].name,
                            rule=rule_id,
                            reason=f"allergen:{allergen}",
                        ),
                    )
        return tuple(excluded.values())

    def _offers_alternatives(self, findings: list[Finding]) -> bool:
        """Whether any fired rule points the patient to the safer alternatives."""
        rules = self._rule_by_id
        return any(
            (rule := rules.get(f.rule)) is not None and rule.offers_alternatives for f in findings
        )
