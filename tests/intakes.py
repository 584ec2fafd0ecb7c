"""Intakes for tests: fully answered, risk-free bases to which a test adds one risk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CLEAR_FEMALE: dict[str, Any] = {
    "sex": "female",
    "birth_date": "1990-04-12",
    "pregnant": "no",
    "pregnancy_possible": "no",
    "breastfeeding": "no",
    "recently_weaned": "no",
    "allergy_history": "no",
    "sensitive_skin": "no",
    "cardiovascular_disease": "no",
    "myocardial_infarction_history": "no",
    "insulin_dependent_diabetes": "no",
    "cancer_history": "no",
    "clotting_disorder": "no",
    "anticoagulant_use": "no",
    "treatment_area_wound_or_infection": "no",
}

CLEAR_MALE: dict[str, Any] = {
    key: value
    for key, value in CLEAR_FEMALE.items()
    if key not in ("pregnant", "pregnancy_possible", "breastfeeding", "recently_weaned")
} | {"sex": "male", "birth_date": "1984-09-30"}

BASES = {"female": CLEAR_FEMALE, "male": CLEAR_MALE}


def intake(base: str = "female", **answers: Any) -> dict[str, Any]:
    """A clear intake of ``base`` with ``answers`` set on top."""
    return BASES[base] | answers


class CountedChecks:
    """An intake schema that counts the intakes it checks (put in a ``ScreeningService``'s
    ``schema``: a memo of decisions that shares one checks it once)."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self.checked = 0

    def parse(self, answers: Mapping[str, object], on: Any) -> Any:
        self.checked += 1
        return self.schema.parse(answers, on)
