"""The SDC Questionnaire: valid R4, both languages, shown exactly when the engine asks, and
its responses screened like JSON intakes."""

from __future__ import annotations

import itertools
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhirpathpy import evaluate
from fhirpathpy.models import models

from mesoscreen.adapters.fhir.questionnaire import (
    ANSWER_SYSTEM,
    ENABLE_WHEN_EXPRESSION,
    QUESTIONNAIRE_URL,
    questionnaire,
)
from mesoscreen.adapters.fhir.questionnaire_response import answers_from_response
from mesoscreen.domain.errors import FhirInputError
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.cli import main
from mesoscreen.knowledge import default_knowledge_base
from tests.intakes import intake
from tests.unit.adapters.fhir.sdc_enable import enabled_items

KB = default_knowledge_base()
QUESTIONNAIRE = questionnaire(KB)
ITEMS = {item["linkId"]: item for item in QUESTIONNAIRE["item"]}
ON = date(2026, 11, 25)


def response(answers: dict[str, Any]) -> dict[str, Any]:
    """A QuestionnaireResponse with ``answers`` (codes, dates or lists of strings)."""
    items = []
    for link, value in answers.items():
        if isinstance(value, list):
            given = [{"valueString": v} for v in value]
        elif link in ("birth_date", "weaned_on"):
            given = [{"valueDate": value}]
        else:
            given = [{"valueCoding": {"system": ANSWER_SYSTEM, "code": value}}]
        items.append({"linkId": link, "answer": given})
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": QUESTIONNAIRE_URL, "item": items}  # fmt: skip


def test_the_questionnaire_is_valid_r4_with_every_question_in_both_languages() -> None:
    """One item per knowledge-base question, each with its Vietnamese translation."""
    get_fhir_model_class("Questionnaire").model_validate(QUESTIONNAIRE)
    assert list(ITEMS) == [q.id for q in KB.questions]
    for question in KB.questions:
        translation = ITEMS[question.id]["_text"]["extension"][0]["extension"]
        assert {"url": "content", "valueString": question.text.vi} in translation
    codes = [o["valueCoding"]["code"] for o in ITEMS["pregnant"]["answerOption"]]
    assert codes == ["yes", "no", "unknown"]


def _components() -> list[tuple[str, ...]]:
    """The facts read by applicability conditions, grouped so that no condition reads two
    groups: the enable logic of each group can be checked on its own answers."""
    groups: list[set[str]] = []
    for question in KB.questions:
        if question.applies_when is None:
            continue
        linked = {question.id, *question.applies_when.facts()}
        touching = [g for g in groups if g & linked]
        merged = linked.union(*touching)
        groups = [g for g in groups if g not in touching] + [merged]
    read = set().union(*(q.applies_when.facts() for q in KB.questions if q.applies_when))
    return [tuple(sorted(g & read)) for g in groups]


def _choices(fact: str) -> list[str | None]:
    """Every answer a fact can take, and no answer."""
    question = next(q for q in KB.questions if q.id == fact)
    if question.answer_type.value == "yes_no_unknown":
        return [None, "yes", "no", "unknown"]
    assert question.choices, fact  # conditions read answers and choices only
    return [None, *question.choices, "unknown"]


COMBINATIONS = [
    dict(zip(facts, values, strict=True))
    for facts in _components()
    for values in itertools.product(*(_choices(f) for f in facts))
]


def _engine_asks(answers: dict[str, str | None], question_id: str) -> bool:
    """Whether the engine asks ``question_id``: a required question is listed as missing
    exactly when it applies and is unanswered; an optional one, given an answer that shows no
    risk, is reported as an answer to a question that does not apply exactly when it does not."""
    from mesoscreen.services.screening import ScreeningService

    given = {k: v for k, v in answers.items() if v is not None and k != question_id}
    if next(q for q in KB.questions if q.id == question_id).required:
        return question_id in ScreeningService(KB).screen(given, ON).missing
    question = next(q for q in KB.questions if q.id == question_id)
    harmless = next(a for a in ("no", *question.choices) if a != question.risk_answer)
    decision = ScreeningService(KB).screen({**given, question_id: harmless}, ON)
    return question_id not in decision.not_applicable_answers


def test_the_facts_checked_cover_every_applicability_condition() -> None:
    """Every fact any condition reads is varied, each in one group."""
    read = set().union(*(q.applies_when.facts() for q in KB.questions if q.applies_when))
    varied = [f for facts in _components() for f in facts]
    assert sorted(varied) == sorted(read)
    assert len(COMBINATIONS) > 64


@pytest.mark.parametrize("keep_hidden_answers", [False, True])
def test_an_item_is_shown_exactly_when_the_engine_would_ask_it(keep_hidden_answers: bool) -> None:
    """For every answer combination, a filler running enableWhen and the FHIRPath
    enableWhenExpression (fhirpathpy) shows a gated item exactly when the engine asks it,
    whether the filler drops hidden items' answers (as SDC says) or keeps them.

    Only combinations a filler can produce are compared: an answer to an item the form hides
    (weaning answers for a man) is a contradiction the engine reports and resolves by asking
    more (ADR 0011), which tests/clinical covers."""
    gated = [q.id for q in KB.questions if q.applies_when is not None]
    for answers in COMBINATIONS:
        given = {k: v for k, v in answers.items() if v is not None}
        visible = enabled_items(QUESTIONNAIRE, response(given), keep_hidden_answers=False)
        if not set(given) <= visible:
            continue
        shown = enabled_items(
            QUESTIONNAIRE, response(given), keep_hidden_answers=keep_hidden_answers
        )
        for question_id in gated:
            if question_id in given:
                continue  # its own answer never changes whether it is asked; checked unanswered
            assert (question_id in shown) == _engine_asks(answers, question_id), (
                question_id,
                answers,
            )


@pytest.mark.parametrize(
    ("answers", "hidden"),
    [
        ({"sex": "male", "recently_weaned": "yes"}, "weaned_on"),
        ({"sex": "female", "breastfeeding": "yes", "recently_weaned": "yes"}, "weaned_on"),
        ({"sex": "male", "breastfeeding": "no"}, "recently_weaned"),
    ],
)
def test_a_follow_up_of_a_hidden_question_is_hidden(answers: dict[str, str], hidden: str) -> None:
    """Applicability is transitive: no weaning date from men or from breastfeeding women,
    even with a stale answer upstream."""
    for keep in (False, True):
        assert hidden not in enabled_items(
            QUESTIONNAIRE, response(answers), keep_hidden_answers=keep
        )


def test_no_item_has_both_enable_when_and_an_enable_when_expression() -> None:
    """The SDC invariant sdc-behave-2, evaluated as the profile states it in FHIRPath."""
    invariant = (
        "enableWhen.empty() or extension('http://hl7.org/fhir/uv/sdc/StructureDefinition/"
        "sdc-questionnaire-enableWhenExpression').empty()"
    )
    for language in Language:
        for item in questionnaire(KB, language)["item"]:
            assert evaluate(item, invariant, {}, models["r4"]) == [True], item["linkId"]
    kinds = {
        ("enableWhen" in i, ENABLE_WHEN_EXPRESSION in str(i.get("extension")))
        for i in ITEMS.values()
    }
    assert kinds == {(False, False), (True, False), (False, True)}


def test_a_response_screens_like_the_same_json_intake() -> None:
    """Same answers, same decision."""
    from mesoscreen.services.screening import ScreeningService

    raw = intake("female", allergy_history="yes", allergens=["lidocaine"], breastfeeding="no",
                 recently_weaned="yes", weaned_on="2026-10-01")  # fmt: skip
    service = ScreeningService(KB)
    get_fhir_model_class("QuestionnaireResponse").model_validate(response(raw))
    from_response = service.screen(answers_from_response(response(raw), KB), ON)
    assert from_response.as_dict() == service.screen(raw, ON).as_dict()


def test_a_response_stopped_half_way_is_screened_as_incomplete() -> None:
    """Unanswered items stay unknown: never eligible, and the engine lists what to ask."""
    from mesoscreen.services.screening import ScreeningService

    partial = {**response({"sex": "male", "cancer_history": "no"}), "status": "stopped"}
    decision = ScreeningService(KB).screen(answers_from_response(partial, KB), ON)
    assert decision.outcome.value == "incomplete"
    assert "clotting_disorder" in decision.missing


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"questionnaire": "https://elsewhere.example/Questionnaire/x"}, "'questionnaire'"),
        ({"item": [{"answer": []}]}, "'item[0].linkId'"),
        ({"item": [{"linkId": "pregnant", "answer": [{"valueInteger": 3}]}]},
         "'item[0].answer[0]'"),
        ({"item": [{"linkId": "pregnant", "answer": [{"valueCoding": {"code": "yes"}},
                                                     {"valueCoding": {"code": "no"}}]}]},
         "takes one answer"),
        ({"status": "entered-in-error"}, "'status': expected one of"),
        ({"status": None}, "'status': expected one of"),
        ({"item": [{"linkId": "pregnant", "answer": [{"valueCoding": {
            "system": "http://snomed.info/sct", "code": "yes"}}]}]},
         "'item[0].answer[0].valueCoding.system'"),
    ],
)  # fmt: skip
def test_a_malformed_response_names_the_element(change: dict[str, Any], message: str) -> None:
    """Errors say where the response is wrong."""
    with pytest.raises(FhirInputError, match=re.escape(message)):
        answers_from_response({**response({}), **change}, KB)


def test_the_commands_print_the_questionnaire_and_screen_a_response(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`questionnaire --fhir` prints the resource; `screen` takes a response to it."""
    assert main(["questionnaire", "--fhir"]) == 0
    assert json.loads(capsys.readouterr().out)["url"] == QUESTIONNAIRE_URL
    path = tmp_path / "response.json"
    path.write_text(json.dumps(response(intake("female", pregnant="yes"))), encoding="utf-8")
    assert main(["screen", str(path), "--json", "--on", "2026-11-25"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "deferred"
    path.write_text(json.dumps(response({"pregnant": "perhaps"})), encoding="utf-8")
    assert main(["screen", str(path)]) == 2
    assert "intake field 'pregnant'" in capsys.readouterr().err


def test_a_responses_subject_becomes_the_decisions_subject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`screen --fhir` on a response about Patient/q1: the GuidanceResponse is about q1 too."""
    path = tmp_path / "response.json"
    document = {**response(intake("male")), "subject": {"reference": "Patient/q1"}}
    path.write_text(json.dumps(document), encoding="utf-8")
    assert main(["screen", str(path), "--fhir", "--on", "2026-11-25"]) == 0
    bundle = json.loads(capsys.readouterr().out)
    (guidance,) = [e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "GuidanceResponse"]  # fmt: skip
    assert guidance["subject"] == {"reference": "Patient/q1"}


def test_the_vietnamese_questionnaire_carries_english_as_its_translation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--language vi`: Vietnamese texts and displays, English in the translation extension,
    the same items and logic."""
    assert main(["questionnaire", "--fhir", "--language", "vi"]) == 0
    vietnamese = json.loads(capsys.readouterr().out)
    get_fhir_model_class("Questionnaire").model_validate(vietnamese)
    assert vietnamese["language"] == "vi"
    for item, question in zip(vietnamese["item"], KB.questions, strict=True):
        assert item["text"] == question.text.vi
        translation = item["_text"]["extension"][0]["extension"]
        assert {"url": "lang", "valueCode": "en"} in translation
        assert {"url": "content", "valueString": question.text.en} in translation
        assert item.get("enableWhen") == ITEMS[question.id].get("enableWhen")
    display = vietnamese["item"][0]["answerOption"][0]["valueCoding"]
    assert display["code"] == ITEMS[KB.questions[0].id]["answerOption"][0]["valueCoding"]["code"]
