"""The bulk summary: counts per outcome and per category."""

from __future__ import annotations

from mesoscreen.services.bulk_screening import BulkSummary


def test_each_category_counts_once_per_patient_and_outcomes_are_ordered_by_severity() -> None:
    """Two findings of one category on one patient count as one patient."""
    summary = BulkSummary()
    summary.add("deferred", ["pregnancy", "pregnancy"])
    summary.add("incomplete", [])
    summary.add_bad_line()
    assert summary.patients == 2
    assert summary.bad_lines == 1
    assert summary.category_rows() == [("pregnancy", 1)]
    assert summary.outcome_rows()[0] == ("contraindicated", 0)
    assert dict(summary.outcome_rows())["deferred"] == 1


def test_summaries_from_workers_merge() -> None:
    """Partial counts add up."""
    a, b = BulkSummary(), BulkSummary()
    a.add("eligible", [])
    b.add("contraindicated", ["cancer"])
    b.add_bad_line()
    a.merge(b)
    assert (a.patients, a.bad_lines, a.by_category["cancer"]) == (2, 1, 1)
