"""Fuzzing the FHIR inputs of a screening (Bundle and QuestionnaireResponse), end to end.

Whatever a document holds, reading it and screening it either gives a decision or raises an
``InputError`` whose message names an element: never another exception, which a user would
meet as an internal error. The record reader alone is fuzzed with its own tests; these go
through the same door as ``mesoscreen screen`` (detection, Bundle entries, the response's
items and answers, then the intake validator).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mesoscreen.adapters.fhir.questionnaire import ANSWER_SYSTEM, QUESTIONNAIRE_URL
from mesoscreen.domain.errors import InputError
from mesoscreen.entrypoints.cli.input_kinds import screening_input
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService

KB = default_knowledge_base()
SCREENING = ScreeningService(KB)
ON = date(2026, 11, 25)
QUESTION_IDS = [q.id for q in KB.questions]

_scalar = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["yes", "no", "unknown", "2026-01-31", "1990-13-40"])
)  # fmt: skip
_json = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=12,
)  # fmt: skip
_coding = st.fixed_dictionaries(
    {"code": st.sampled_from(["yes", "no", "unknown", "female", "maybe"]) | _json},
    optional={"system": st.sampled_from([ANSWER_SYSTEM, "http://snomed.info/sct"]) | _json},
)
_answer = st.one_of(
    st.fixed_dictionaries({"valueCoding": _coding}),
    st.fixed_dictionaries({"valueBoolean": st.booleans()}),
    st.fixed_dictionaries({"valueDate": st.sampled_from(["2026-10-15", "2027-01-01", "x"])}),
    st.fixed_dictionaries({"valueString": st.text(max_size=20)}),
    st.dictionaries(st.sampled_from(["valueCoding", "valueBoolean", "valueDate", "valueString",
                                     "valueInteger"]), _json, min_size=1, max_size=2),
    _json,
)  # fmt: skip
# Mostly well-formed, so generation reaches the answers; malformed parts at every level.
_leaf_item = st.fixed_dictionaries(
    {"linkId": st.sampled_from(QUESTION_IDS), "answer": st.lists(_answer, max_size=3)},
)
_item = st.recursive(
    _leaf_item | st.fixed_dictionaries({"linkId": _json}, optional={"answer": _json}),
    lambda inner: st.fixed_dictionaries(
        {"linkId": st.sampled_from(QUESTION_IDS), "item": st.lists(inner, max_size=3)},
        optional={"answer": st.lists(_answer, max_size=2)},
    ),
    max_leaves=8,
)
_questionnaire_response = st.fixed_dictionaries(
    {"resourceType": st.just("QuestionnaireResponse"),
     "status": st.sampled_from(["completed", "in-progress", "stopped", "amended",
                                "entered-in-error", "", None, 3]),
     "item": st.lists(_item, min_size=1, max_size=8)},
    optional={"questionnaire": st.sampled_from([QUESTIONNAIRE_URL, f"{QUESTIONNAIRE_URL}|1",
                                                "http://example.org/other", 7]),
              "subject": st.fixed_dictionaries({"reference": st.text(max_size=12)}) | _json},
)  # fmt: skip
_resource = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Condition", "Observation", "Medication",
                                      "MedicationStatement", "MedicationRequest",
                                      "AllergyIntolerance", "Condition", "Observation", 7])},
    optional={key: _json for key in ("id", "code", "gender", "birthDate", "clinicalStatus",
                                     "valueCodeableConcept", "medicationReference", "subject")},
)  # fmt: skip
_bundle = st.fixed_dictionaries(
    {"resourceType": st.just("Bundle")},
    optional={"entry": st.lists(st.fixed_dictionaries({"resource": _resource}), max_size=8)
                       | st.lists(st.fixed_dictionaries({"resource": _resource}) | _json,
                                  max_size=3)
                       | _json},
)  # fmt: skip


def _screen_or_refuse(document: Any) -> None:
    """Read and screen ``document``; only a decision or an InputError naming a field is fine."""
    try:
        found = screening_input(document, ON)
        SCREENING.screen(found.answers, ON)
    except InputError as refused:
        message, code = str(refused), refused.code
    else:
        return
    assert message.strip(), "an input error must say what is wrong"
    assert code in {"invalid_intake", "invalid_fhir"}, code


@settings(max_examples=300, deadline=None)
@given(_questionnaire_response)
def test_any_questionnaire_response_is_screened_or_refused_with_a_clear_error(
    document: dict[str, Any],
) -> None:
    """Items nested or not, answers of any type and shape: decision or InputError only."""
    _screen_or_refuse(document)


@settings(max_examples=200, deadline=None)
@given(_bundle)
def test_any_bundle_is_screened_or_refused_with_a_clear_error(document: dict[str, Any]) -> None:
    """Entries of any shape and resources with any content: decision or InputError only."""
    _screen_or_refuse(document)
