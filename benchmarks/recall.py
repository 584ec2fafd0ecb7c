"""Recall and false yes per intake fact, on exports shaped like real ones.

Run: .venv/bin/python -m benchmarks.recall [--patients 2000] [--seed 18]

For every patient of a generated export (``realistic_export``: transaction Bundles with
Encounters, Claims, ExplanationOfBenefits, hundreds of Observations, SNOMED CT descendants,
ICD-10 WHO/GM/CM, clinical-drug and branded RxNorm, ATC, LOINC answers, ended conditions,
deceased patients, and distractors), the record reader's answers are compared with what the
generator put in: recall is the share of the patients with a risk whose risk was found, false
yes the number of patients given a yes the record does not support. The goal: recall 1.00 and
no false yes for every fact.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from datetime import date

from benchmarks.realistic_export import RealisticExport
from mesoscreen.adapters.fhir.record_facts import RecordReader
from mesoscreen.knowledge.valuesets import default_value_sets

ON = date(2026, 11, 25)


@dataclass(frozen=True)
class Row:
    """One fact's counts over the export."""

    fact: str
    with_risk: int
    found: int
    false_yes: int

    @property
    def recall(self) -> float:
        """Found over with risk (1.0 when no patient had the risk)."""
        return self.found / self.with_risk if self.with_risk else 1.0


def measure(patients: int, seed: int = 18, observations: int = 300) -> list[Row]:
    """Recall and false yes per fact (and for deceased patients) over ``patients``."""
    reader = RecordReader.default()
    facts = [f.question for f in default_value_sets().facts] + ["deceased"]
    with_risk: Counter[str] = Counter()
    found: Counter[str] = Counter()
    false_yes: Counter[str] = Counter()
    for patient in RealisticExport(seed, ON, observations).patients(patients):
        read = reader.read(patient.resources, ON)
        shown = {q for q, v in read.answers.items() if v == "yes"}
        if read.deceased is not None:
            shown = {"deceased"}
        truth = {"deceased"} if patient.deceased else patient.truth
        for fact in facts:
            if fact in truth:
                with_risk[fact] += 1
                found[fact] += fact in shown
            elif fact in shown:
                false_yes[fact] += 1
    return [Row(f, with_risk[f], found[f], false_yes[f]) for f in facts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rows = measure(args.patients, args.seed)
    print(f"| fact | patients with it | found | recall | false yes (of {args.patients}) |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row.fact} | {row.with_risk} | {row.found} | {row.recall:.2f} | "
              f"{row.false_yes} |")  # fmt: skip


if __name__ == "__main__":
    main()
