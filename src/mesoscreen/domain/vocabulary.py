"""Closed vocabularies of screening: answers, outcomes ordered by severity, finding categories."""

from __future__ import annotations

from enum import StrEnum


class Answer(StrEnum):
    """An answer to a yes/no safety question; ``unknown`` is never read as ``no``."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    """A screening outcome; ``severity`` orders them, most severe highest."""

    CONTRAINDICATED = "contraindicated"
    DEFERRED = "deferred"
    SPECIALIST_CLEARANCE = "specialist_clearance"
    INCOMPLETE = "incomplete"
    PRECAUTIONS = "precautions"
    ELIGIBLE = "eligible"

    @property
    def severity(self) -> int:
        """Rank for combining findings: contraindicated 5 ... eligible 0."""
        return _SEVERITY[self]

    @property
    def permits_treatment(self) -> bool:
        """Whether a plan may be made at all (precautions and clearance need actions done)."""
        return self in (Outcome.ELIGIBLE, Outcome.PRECAUTIONS, Outcome.SPECIALIST_CLEARANCE)


_SEVERITY = {
    Outcome.CONTRAINDICATED: 5,
    Outcome.DEFERRED: 4,
    Outcome.SPECIALIST_CLEARANCE: 3,
    Outcome.INCOMPLETE: 2,
    Outcome.PRECAUTIONS: 1,
    Outcome.ELIGIBLE: 0,
}

# Outcomes a rule may force; `incomplete` comes from missing answers and rule errors only.
RULE_OUTCOMES = frozenset(
    {
        Outcome.CONTRAINDICATED,
        Outcome.DEFERRED,
        Outcome.SPECIALIST_CLEARANCE,
        Outcome.PRECAUTIONS,
    }
)


def most_severe(outcomes: list[Outcome]) -> Outcome:
    """The most severe of ``outcomes``; ``eligible`` when there are none."""
    worst = Outcome.ELIGIBLE
    for outcome in outcomes:
        if outcome.severity > worst.severity:
            worst = outcome
    return worst


class Category(StrEnum):
    """Finding categories: the fixed vocabulary of the product, plus a few of our own."""

    PREGNANCY = "pregnancy"
    PREGNANCY_POTENTIAL = "pregnancy_potential"
    BREASTFEEDING = "breastfeeding"
    ALLERGY = "allergy"
    CARDIOVASCULAR = "cardiovascular"
    DIABETES = "diabetes"
    CANCER = "cancer"
    COAGULATION = "coagulation"
    TREATMENT_AREA = "treatment_area"
    MEDICATION = "medication"
    RULE_ERROR = "rule_error"
    CONTRADICTORY_ANSWERS = "contradictory_answers"


class Language(StrEnum):
    """Languages every clinical text of the knowledge base carries."""

    EN = "en"
    VI = "vi"
