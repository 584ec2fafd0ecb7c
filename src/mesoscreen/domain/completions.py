"""Decisions over completions: what a category's finding is whatever the unknown answers are.

A completion of an intake answers every unknown question that applies: yes or no, each
choice, a date from each class its rules tell apart (their month bounds), a list empty or
naming something. A category's finding is the least severe outcome over every completion of
the unknown answers its rules read (ADR 0011). Only rules the answers leave undecided are
completed; those that hold already hold in every completion (Kleene logic is monotone), so
the enumeration stops as soon as one completion is no worse than what is already certain.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import product

from mesoscreen.domain.conditions import Facts, FactValue, Truth, month_bounds
from mesoscreen.domain.dates import add_months
from mesoscreen.domain.errors import RuleFailedError
from mesoscreen.domain.knowledge_base import AnswerType, Question, Rule
from mesoscreen.domain.vocabulary import Outcome

_UNNAMED = ("(not yet named)",)
_DOMAIN_CACHE = 4096


@dataclass(frozen=True, slots=True)
class Completed:
    """A category's least severe reading when it is above what the answers already show.

    ``rules`` fire at ``outcome`` in the least severe completions; ``always`` fire in every
    completion; ``otherwise`` is the most severe outcome of another completion and
    ``otherwise_rules`` the rules giving it; ``tags`` are excluded in every completion;
    ``to_confirm`` are the unknown answers that decide between them.
    """

    outcome: Outcome
    rules: tuple[Rule, ...]
    always: tuple[Rule, ...]
    otherwise: Outcome | None
    otherwise_rules: tuple[str, ...]
    tags: frozenset[str]
    to_confirm: tuple[str, ...]


def _domain(question: Question, bounds: set[int], on: date) -> tuple[FactValue, ...]:
    """The values a completion may give ``question``, the least risky first."""
    kind = question.answer_type
    if kind is AnswerType.YES_NO_UNKNOWN:
        return ("yes", "no") if question.risk_answer == "no" else ("no", "yes")
    if kind is AnswerType.CHOICE:
        return question.choices
    if kind is AnswerType.DATE:
        # One date per class of months elapsed: [0, b1), [b1, b2), ..., [bk, inf); oldest first.
        return tuple(add_months(on, -months) for months in sorted({0, *bounds}, reverse=True))
    return ((), _UNNAMED)


class CategoryCompleter:
    """Completes the unknown answers of one category's undecided rules."""

    def __init__(self, questions: Mapping[str, Question], rules: Sequence[Rule]) -> None:
        self._questions = questions
        bounds: dict[str, set[int]] = {}
        for rule in rules:
            for fact, found in month_bounds(rule.when).items():
                bounds.setdefault(fact, set()).update(found)
        self._bounds = bounds
        self._index = {question_id: index for index, question_id in enumerate(questions)}
        self._domains: dict[tuple[str, date], tuple[FactValue, ...]] = {}
        self._facts = tuple(sorted(set().union(*(rule.when.facts() for rule in rules))))
        # The reading depends only on the category's answers, which of them are open, the
        # severity already certain and the date: few combinations occur, so it is cached.
        self._memo: dict[tuple[object, ...], Completed | None] = {}

    def complete(
        self,
        undecided: Sequence[tuple[Rule, frozenset[str]]],
        certain: int,
        facts: Facts,
        on: date,
        open_facts: frozenset[str],
    ) -> Completed | None:
        """The least severe reading over every completion, or None when it is no worse than
        the severity ``certain`` (of the rules that already hold); RuleFailedError if a rule
        raises."""
        key = (
            on,
            certain,
            *(facts.get(fact) for fact in self._facts),
            *(fact in open_facts for fact in self._facts),
        )
        if key in self._memo:
            return self._memo[key]
        result = self._complete(undecided, certain, facts, on, open_facts)
        if len(self._memo) > _DOMAIN_CACHE:
            self._memo.clear()
        self._memo[key] = result
        return result

    def _complete(
        self,
        undecided: Sequence[tuple[Rule, frozenset[str]]],
        certain: int,
        facts: Facts,
        on: date,
        open_facts: frozenset[str],
    ) -> Completed | None:
        """``complete`` without the cache."""
        to_complete = sorted(
            set().union(*(reads for _, reads in undecided)) & open_facts,
            key=self._order,
        )
        if not to_complete:
            return None  # what is unknown does not apply: nothing to complete
        domains = [_domain(self._questions[f], self._bounds.get(f, set()), on) for f in to_complete]
        least = Outcome.CONTRAINDICATED.severity + 1
        runs: list[tuple[int, frozenset[str]]] = []
        names = [rule.id for rule, _ in undecided]
        for completion in self._completions(facts, to_complete, domains):
            fired = frozenset(
                rule.id for rule, _ in undecided if _truth(rule, completion, on) is Truth.TRUE
            )
            severity = max(
                (r.outcome.severity for r, _ in undecided if r.id in fired),
                default=0,
            )
            severity = max(severity, certain)
            if severity <= certain:
                return None
            least = min(least, severity)
            runs.append((severity, fired))
        by_id = {rule.id: rule for rule, _ in undecided}
        always = frozenset.intersection(*(fired for _, fired in runs))
        at_least = frozenset().union(*(fired for sev, fired in runs if sev == least))
        chosen = tuple(
            by_id[name]
            for name in names
            if name in at_least and name not in always and by_id[name].outcome.severity == least
        )
        worst = max(sev for sev, _ in runs)
        worst_rules = frozenset().union(*(fired for sev, fired in runs if sev == worst))
        tags = frozenset.intersection(
            *(
                frozenset(t for name in fired for t in by_id[name].excludes_tags)
                for _, fired in runs
            )
        )
        return Completed(
            outcome=_by_severity(least),
            rules=chosen,
            always=tuple(by_id[name] for name in names if name in always),
            otherwise=_by_severity(worst) if worst > least else None,
            otherwise_rules=tuple(
                name
                for name in names
                if worst > least and name in worst_rules and by_id[name].outcome.severity == worst
            ),
            tags=tags,
            to_confirm=tuple(to_complete),
        )

    def _domain(self, fact: str, on: date) -> tuple[FactValue, ...]:
        """A fact's completion values (cached: they depend only on the screening date)."""
        key = (fact, on)
        values = self._domains.get(key)
        if values is None:
            if len(self._domains) > _DOMAIN_CACHE:
                self._domains.clear()
            values = _domain(self._questions[fact], self._bounds.get(fact, set()), on)
            self._domains[key] = values
        return values

    def _order(self, fact: str) -> int:
        """Questions in knowledge-base order."""
        return self._index[fact]

    @staticmethod
    def _completions(
        facts: Facts, keys: Sequence[str], domains: Sequence[tuple[FactValue, ...]]
    ) -> Iterator[Facts]:
        """Every completion of ``keys`` over their domains, the least risky first."""
        base = dict(facts)
        for values in product(*domains):
            completion = dict(base)
            completion.update(zip(keys, values, strict=True))
            yield completion


def _truth(rule: Rule, facts: Facts, on: date) -> Truth:
    """A rule's truth in a completion; RuleFailedError if it raises."""
    try:
        return rule.when.evaluate(facts, on)
    except Exception as exc:
        raise RuleFailedError(rule, exc) from exc


def _by_severity(severity: int) -> Outcome:
    """The rule outcome of a severity."""
    return next(o for o in Outcome if o.severity == severity)
