"""The screening engine: evaluate every rule on an intake and combine the findings.

Each category's finding is the least severe outcome over every completion of the unknown
answers its rules read (``completions``; ADR 0011): a known risk never disappears behind an
unknown follow-up. Contradictory answers become findings (``consistency``). The outcome is
``contraindicated`` or ``deferred`` when a finding says so; otherwise ``incomplete`` while
any question that applies is unanswered or unknown, answers contradict each other or a rule
failed; otherwise the most severe finding (``specialist_clearance``, ``precautions``), else
``eligible``. Only a complete decision can permit treatment. A rule that raises fails
closed: it becomes an error finding whose outcome is ``incomplete``.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType

from mesoscreen.domain.completions import CategoryCompleter, Completed
from mesoscreen.domain.conditions import (
    UNKNOWN_VALUE,
    Facts,
    FactValue,
    Truth,
    is_known,
    possibly_facts,
)
from mesoscreen.domain.consistency import ConsistencyChecker
from mesoscreen.domain.dates import add_months
from mesoscreen.domain.decision import (
    ConflictNote,
    Decision,
    ExcludedIngredient,
    Finding,
    RequiredAction,
)
from mesoscreen.domain.errors import RuleFailedError
from mesoscreen.domain.intake import Intake
from mesoscreen.domain.knowledge_base import Alternative, KnowledgeBase, Rule, Text
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
_CACHE_SIZE = 4096
# What a decision takes from its findings' rules alone: actions, excluded tags, the tag
# exclusions and the alternatives.
_RuleParts = tuple[
    tuple[RequiredAction, ...],
    tuple[str, ...],
    tuple[ExcludedIngredient, ...],
    tuple[Alternative, ...],
]


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
        questions = {q.id: q for q in kb.questions}
        by_category: dict[Category, list[Rule]] = {}
        for rule in self._rules:
            by_category.setdefault(rule.category, []).append(rule)
        self._completers = tuple(
            CategoryCompleter(questions, rules) for rules in by_category.values()
        )
        category_index = {category: index for index, category in enumerate(by_category)}
        self._flat_rules = tuple(
            (
                category_index[rule.category],
                rule,
                rule.when.facts(),
                bool(possibly_facts(rule.when)),
                rule.outcome.severity,
            )
            for rule in self._rules
        )
        self._possibly = frozenset().union(*(possibly_facts(r.when) for r in self._rules))
        self._answered_by = tuple(
            (q.id, q.answered_by, q.answered_yes_when)
            for q in kb.questions
            if q.answered_by is not None and q.answered_yes_when is not None
        )
        self._consistency = ConsistencyChecker(kb)
        self._gate_facts = frozenset().union(*(reads for _, _, reads in self._gated))
        self._gate_order = tuple(sorted(self._gate_facts))
        self._applicability: dict[tuple[object, ...], frozenset[str]] = {}
        self._parts: dict[tuple[object, ...], _RuleParts] = {}
        self._findings: dict[tuple[object, ...], Finding] = {}
        self._conflict_notes = {
            rule.id: ConflictNote(
                conflict=rule.only_under.conflict,
                topic=kb.conflicts[rule.only_under.conflict].topic,
                chosen=rule.only_under.reading,
                readings=kb.conflicts[rule.only_under.conflict].readings,
            )
            for rule in self._rules
            if rule.only_under is not None
        }
        read: set[str] = set()
        for rule in self._rules:
            read |= rule.when.facts()
            if rule.defer_until is not None:
                read.add(rule.defer_until.from_fact)
            if rule.excludes_allergens_from is not None:
                read.add(rule.excludes_allergens_from)
        for question_id, _, reads in self._gated:
            # A gated question's own value decides whether its answer is a contradiction.
            read |= reads | {question_id}
        for question in kb.questions:
            if question.answered_by is not None:
                read.add(question.answered_by)
        self.facts_read: frozenset[str] = frozenset(read)
        """Every fact whose value can change a decision, besides the consistency checks'
        (``decision_key``); of the others, a decision depends only on whether they are
        answered (a bulk screener can share decisions on that)."""

    def decision_key(self, facts: Facts) -> tuple[tuple[str, object], ...]:
        """What a decision on ``facts`` depends on: the value of every fact read, the value of
        every fact a consistency check reads when the facts it needs to hold are given (only
        then can it hold), and of every other fact only whether it is answered. Equal keys,
        equal decisions."""
        known = {key for key, value in facts.items() if value != UNKNOWN_VALUE}
        valued = self._valued(known)
        return tuple(
            sorted((key, value if key in valued else key in known) for key, value in facts.items())
        )

    def reads_value(self, fact: str, answered: AbstractSet[str]) -> bool:
        """Whether a decision on facts of which ``answered`` are the ones answered can depend
        on the value of ``fact``, not only on whether it is answered (``decision_key`` keeps
        that value). When it cannot, intakes that differ only in that fact's answered value
        get the same decision. Answering more facts only adds values read, so a caller that
        knows only which facts may be answered passes all of them."""
        return fact in self._valued(answered)

    def _valued(self, known: AbstractSet[str]) -> frozenset[str]:
        """The facts whose values a decision reads when ``known`` are the facts answered:
        ``facts_read``, and every fact a consistency check or its evidence reads when the
        facts it needs to hold are answered (a ``not answered`` part holds on a missing
        answer)."""
        complete = [reads for required, reads in self._consistency.value_reads if required <= known]
        return self.facts_read.union(*complete) if complete else self.facts_read

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
        given = intake.facts
        facts = self._derive(given, on)
        known = {key for key, value in facts.items() if value != UNKNOWN_VALUE}
        not_applicable = self._not_applicable(facts, on, known)
        unknown = self._question_ids - known - not_applicable
        missing = self._required_ids & unknown
        findings, unused = self._consistency.findings(given, on, not_applicable, known)
        if findings and not self._gate_facts.isdisjoint(
            key for finding in findings for key in finding.evidence
        ):
            # The stricter reading of a contradiction doubts every answer in it, so no question
            # is taken as not applying because of a doubted answer (a man who gave a weaning
            # date may be a woman whose sex was entered wrongly).
            doubted = {key for finding in findings for key in finding.evidence}
            trusted = {k: v for k, v in facts.items() if k not in doubted}
            not_applicable = self._not_applicable(trusted, on, known - doubted)
            unknown = self._question_ids - known - not_applicable
            missing = self._required_ids & unknown
        open_facts = frozenset(unknown) - self._possibly
        worst = [0] * len(self._completers)  # per category: the severity already certain
        pending: dict[int, list[tuple[Rule, frozenset[str], int]]] | None = None
        for index, rule, reads, has_possibly, severity in self._flat_rules:
            if not has_possibly and reads.isdisjoint(known):
                # Every fact it reads is unknown: in Kleene logic (no constants) the rule
                # is undecided, so all of them must be asked; no need to evaluate it.
                truth = Truth.UNKNOWN
            else:
                try:
                    truth = rule.when.evaluate(facts, on)
                except Exception as exc:
                    findings.append(self._error_finding(rule, facts, exc))
                    continue
            if truth is Truth.TRUE:
                findings.append(self._finding(rule, facts, on))
                if severity > worst[index]:
                    worst[index] = severity
            elif truth is Truth.UNKNOWN:
                # Undecided: every unknown fact it reads must be asked, unless the
                # knowledge base says that question definitely does not apply here.
                missing |= reads & unknown
                if not reads.isdisjoint(open_facts):
                    if pending is None:
                        pending = {}
                    pending.setdefault(index, []).append((rule, reads, severity))
        if pending:
            for index, undecided in pending.items():
                if max(severity for _, _, severity in undecided) <= worst[index]:
                    continue
                try:
                    completed = self._completers[index].complete(
                        [(rule, reads) for rule, reads, _ in undecided],
                        worst[index],
                        facts,
                        on,
                        open_facts,
                    )
                except RuleFailedError as failed:
                    findings.append(self._error_finding(failed.rule, facts, failed.cause))
                    continue
                if completed is not None:
                    findings.extend(self._completed_findings(completed, facts, on))
        ordered = tuple(qid for qid in self._question_order if qid in missing)
        return self._combine(findings, ordered, facts, on, unused)

    def _derive(self, given: Facts, on: date) -> Facts:
        """The answers with each unanswered question answered by its ``answered_by`` answer
        (a weaning date answers "weaned within 6 months?")."""
        derived: dict[str, FactValue] | None = None
        for question_id, source, yes_when in self._answered_by:
            if is_known(given.get(question_id)) or not is_known(given.get(source)):
                continue
            truth = yes_when.evaluate(given, on)
            if truth is Truth.UNKNOWN:
                continue
            if derived is None:
                derived = dict(given)
            derived[question_id] = "yes" if truth is Truth.TRUE else "no"
        return given if derived is None else MappingProxyType(derived)

    def _completed_findings(self, completed: Completed, facts: Facts, on: date) -> list[Finding]:
        """A category's least severe reading over the completions, as findings."""
        out = [self._finding(rule, facts, on) for rule in completed.always]
        for rule in completed.rules:
            finding = self._finding(rule, facts, on)
            out.append(
                replace(
                    finding,
                    excludes_tags=tuple(t for t in rule.excludes_tags if t in completed.tags),
                    to_confirm=completed.to_confirm,
                    otherwise=completed.otherwise,
                    otherwise_rules=completed.otherwise_rules,
                )
            )
        return out

    def _not_applicable(self, facts: Facts, on: date, known: set[str]) -> frozenset[str]:
        """Questions that definitely do not apply: their condition is false, or they follow
        up a question that does not apply (questions come after the ones they depend on).

        Cached by the answers the conditions read: few combinations occur.
        """
        key = (on, *map(facts.get, self._gate_order))
        cached = self._applicability.get(key)
        if cached is not None:
            return cached
        out: set[str] = set()
        for question_id, condition, reads in self._gated:
            if not out.isdisjoint(reads) or (
                not reads.isdisjoint(known) and condition.evaluate(facts, on) is Truth.FALSE
            ):
                out.add(question_id)
        if len(self._applicability) > _CACHE_SIZE:
            self._applicability.clear()
        result = self._applicability[key] = frozenset(out)
        return result

    def _evidence(self, rule: Rule, facts: Facts) -> MappingProxyType[str, FactValue]:
        """The facts the rule read, as the intake gave them."""
        return MappingProxyType(
            {fact: facts.get(fact, UNKNOWN_VALUE) for fact in self._rule_facts[rule.id]}
        )

    def _finding(self, rule: Rule, facts: Facts, on: date) -> Finding:
        """The finding of a rule that fired, with its deferral dates and conflict note.

        A deferral date not after the screening date (only when answers contradict each
        other) is left open: the wait is not known to be over.
        """
        if rule.defer_until is None:
            # Without a date the finding depends only on the facts it read: shared (frozen).
            key = (rule.id, *map(facts.get, self._rule_facts[rule.id]))
            cached = self._findings.get(key)
            if cached is None:
                if len(self._findings) > _CACHE_SIZE:
                    self._findings.clear()
                cached = self._findings[key] = self._new_finding(rule, facts, None, None)
            return cached
        until = lenient = None
        if rule.defer_until is not None:
            start = facts.get(rule.defer_until.from_fact)
            if isinstance(start, date) and add_months(start, rule.defer_until.months) > on:
                until = add_months(start, rule.defer_until.months)
                if rule.defer_until.lenient_months is not None:
                    lenient = add_months(start, rule.defer_until.lenient_months)
        return self._new_finding(rule, facts, until, lenient)

    def _new_finding(
        self, rule: Rule, facts: Facts, until: date | None, lenient: date | None
    ) -> Finding:
        """The finding of a rule that fired, with its dates."""
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
            lenient_until=lenient,
            actions=rule.actions,
            excludes_tags=rule.excludes_tags,
            conflict=self._conflict_notes.get(rule.id),
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
        self,
        findings: list[Finding],
        missing: tuple[str, ...],
        facts: Facts,
        on: date,
        unused: tuple[str, ...] = (),
    ) -> Decision:
        """Fold findings and missing answers into the decision (module docstring)."""
        outcome = self._outcome(findings, missing)
        if not findings:
            return Decision(
                outcome=outcome,
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
                not_applicable_answers=unused,
            )
        allergens = self._allergens(findings, facts)
        actions, tags, by_tag, alternatives = self._by_rules(findings)
        return Decision(
            outcome=outcome,
            earliest_date=self._earliest_date(outcome, findings),
            screening_date=on,
            findings=tuple(findings),
            missing=missing,
            required_actions=actions,
            excluded_ingredient_tags=tags,
            excluded_ingredients=self._with_allergens(by_tag, allergens),
            unmatched_allergens=tuple(
                allergen for _, allergen in allergens if not self._match_allergen(allergen)
            ),
            alternatives=alternatives,
            knowledge_base_version=self.kb.version,
            knowledge_base_hash=self.kb.content_hash,
            policy=self.policy,
            not_applicable_answers=unused,
        )

    def _by_rules(self, findings: list[Finding]) -> _RuleParts:
        """The parts of a decision that depend only on which findings there are (their rules,
        exclusions and actions): cached, as few combinations occur."""
        key = tuple((f.rule, f.excludes_tags, f.actions) for f in findings)
        parts = self._parts.get(key)
        if parts is None:
            if len(self._parts) > _CACHE_SIZE:
                self._parts.clear()
            parts = self._parts[key] = (
                self._required_actions(findings),
                tuple(dict.fromkeys(tag for f in findings for tag in f.excludes_tags)),
                self._excluded_ingredients(findings, []),
                self.kb.alternatives if self._offers_alternatives(findings) else (),
            )
        return parts

    def _with_allergens(
        self, by_tag: tuple[ExcludedIngredient, ...], allergens: list[tuple[str, str]]
    ) -> tuple[ExcludedIngredient, ...]:
        """The tag exclusions plus the ingredients a named allergen rules out; an
        unconditional exclusion wins over one that actions would lift."""
        if not allergens:
            return by_tag
        excluded = {e.ingredient: e for e in by_tag}
        self._exclude_allergens(excluded, allergens)
        return tuple(excluded.values())

    def _exclude_allergens(
        self, excluded: dict[str, ExcludedIngredient], allergens: list[tuple[str, str]]
    ) -> None:
        """Add to ``excluded`` the ingredients each named allergen rules out, unless an
        unconditional exclusion already stands for that ingredient."""
        for rule_id, allergen in allergens:
            for target in self._match_allergen(allergen):
                for ingredient_id in target.ingredients:
                    present = excluded.get(ingredient_id)
                    if present is not None and not present.lifted_by:
                        continue
                    excluded[ingredient_id] = ExcludedIngredient(
                        ingredient=ingredient_id,
                        name=self._ingredients[ingredient_id].name,
                        rule=rule_id,
                        reason=f"allergen:{allergen}",
                    )

    @staticmethod
    def _outcome(findings: list[Finding], missing: tuple[str, ...]) -> Outcome:
        """Deferred or contraindicated when a finding says so (more answers cannot lift it);
        else incomplete while anything is missing, contradictory or failed; else the most
        severe finding. So an outcome that permits treatment is always complete."""
        worst = Outcome.ELIGIBLE
        blocked = bool(missing)
        for finding in findings:
            if finding.outcome is Outcome.INCOMPLETE:
                blocked = True
            elif finding.outcome.severity > worst.severity:
                worst = finding.outcome
        if worst.severity >= Outcome.DEFERRED.severity or not blocked:
            return worst
        return Outcome.INCOMPLETE

    @staticmethod
    def _earliest_date(outcome: Outcome, findings: list[Finding]) -> date | None:
        """The one start bound: the latest end date of every finding's wait; None while a
        deferral is open-ended (its end is not known)."""
        ends = [f.until for f in findings if f.until is not None]
        if outcome is Outcome.DEFERRED and any(
            f.until is None for f in findings if f.outcome is Outcome.DEFERRED
        ):
            return None
        return max(ends) if ends else None

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
        """Ingredients ruled out by a finding's risk tags or by a named allergen; an
        unconditional exclusion wins over one that actions would lift."""
        excluded: dict[str, ExcludedIngredient] = {}
        rules = self._rule_by_id
        for finding in findings:
            rule = rules.get(finding.rule)
            lifted_by = rule.exclusion_lifted_by if rule is not None else ()
            for tag in finding.excludes_tags:
                for ingredient_id in self._by_tag.get(tag, ()):
                    present = excluded.get(ingredient_id)
                    if present is not None and (not present.lifted_by or lifted_by):
                        continue  # the first unconditional exclusion stands
                    excluded[ingredient_id] = ExcludedIngredient(
                        ingredient=ingredient_id,
                        name=self._ingredients[ingredient_id].name,
                        rule=finding.rule,
                        reason=f"tag:{tag}",
                        lifted_by=lifted_by,
                    )
        self._exclude_allergens(excluded, allergens)
        return tuple(excluded.values())

    def _offers_alternatives(self, findings: list[Finding]) -> bool:
        """Whether any fired rule points the patient to the safer alternatives."""
        rules = self._rule_by_id
        return any(
            (rule := rules.get(f.rule)) is not None and rule.offers_alternatives for f in findings
        )
