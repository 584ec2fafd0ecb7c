"""On exports shaped like real ones, every risk in scope is found and nothing else is a yes."""

from __future__ import annotations

from benchmarks.realistic_export import RealisticExport
from benchmarks.recall import ON, measure


def test_every_risk_in_scope_is_found_with_no_false_yes() -> None:
    """Recall 1.0 and no false yes per fact, deceased patients included, on 400 patients."""
    rows = measure(400, seed=7, observations=40)
    assert all(row.with_risk > 0 for row in rows), rows  # the sample exercises every fact
    assert [(r.fact, r.recall, r.false_yes) for r in rows] == [(r.fact, 1.0, 0) for r in rows]


def test_the_generated_export_has_the_shape_of_a_real_one() -> None:
    """Transaction-style records: encounters, claims, EOBs, many observations, the dead."""
    patients = list(RealisticExport(3, ON, observations=200).patients(60))
    kinds = {r["resourceType"] for p in patients for r in p.resources}
    assert {"Encounter", "Claim", "ExplanationOfBenefit", "Observation", "Condition",
            "MedicationRequest"} <= kinds  # fmt: skip
    assert max(sum(r["resourceType"] == "Observation" for r in p.resources)
               for p in patients) >= 1000  # fmt: skip
    assert 0.1 < sum(p.deceased for p in patients) / len(patients) < 0.35
