"""Bulk screening: the tally of outcomes and finding categories over many patients."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from mesoscreen.domain.decision import Decision
from mesoscreen.domain.vocabulary import Outcome

# One line may be large (a Bundle of a long history) but never unbounded: a longer line is
# reported and skipped without being held in memory. ``--max-line-bytes`` changes it.
MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass
class BulkSummary:
    """Counts per outcome and per finding category, of the patients not screened (by reason,
    such as deceased; not counted among the screened) and of the lines that failed."""

    patients: int = 0
    bad_lines: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    not_screened: Counter[str] = field(default_factory=Counter)

    def add_decision(self, decision: Decision) -> None:
        """Count one patient's decision (each category once per patient)."""
        self.add(decision.outcome.value, {f.category.value for f in decision.findings})

    def add(self, outcome: str, categories: Iterable[str], patients: int = 1) -> None:
        """Count ``patients`` patients of one outcome and the same categories of findings."""
        self.patients += patients
        self.by_outcome[outcome] += patients
        for category in set(categories):
            self.by_category[category] += patients

    def add_not_screened(self, reason: str) -> None:
        """Count a patient who was not screened, and why (``deceased``)."""
        self.not_screened[reason] += 1

    def add_bad_line(self) -> None:
        """Count a line that could not be screened."""
        self.bad_lines += 1

    def merge(self, other: BulkSummary) -> None:
        """Add another summary's counts (from a worker or a partition)."""
        self.patients += other.patients
        self.bad_lines += other.bad_lines
        self.by_outcome.update(other.by_outcome)
        self.by_category.update(other.by_category)
        self.not_screened.update(other.not_screened)

    def outcome_rows(self) -> list[tuple[str, int]]:
        """(outcome, count) for every outcome, most severe first, zeros included."""
        ordered = sorted(Outcome, key=lambda o: -o.severity)
        return [(o.value, self.by_outcome.get(o.value, 0)) for o in ordered]

    def category_rows(self) -> list[tuple[str, int]]:
        """(category, patients with a finding of it), largest first."""
        return sorted(self.by_category.items(), key=lambda item: (-item[1], item[0]))
