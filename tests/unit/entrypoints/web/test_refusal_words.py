"""Every refusal a page shows is said in clinician words in English and Vietnamese."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from mesoscreen.domain.access import MIN_PASSWORD_LENGTH, check_password_strength
from mesoscreen.domain.errors import (
    ConflictError,
    InputError,
    IntakeError,
    NotFoundError,
    PermissionDeniedError,
    PlanError,
    WeakPasswordError,
)
from mesoscreen.domain.intake import IntakeSchema
from mesoscreen.domain.planner.safety import Exclusion, ScreeningConstraints
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.vocabulary import Language, Outcome
from mesoscreen.entrypoints.web.error_words import RefusalWords, placeholders
from mesoscreen.entrypoints.web.i18n import messages
from mesoscreen.knowledge.loader import load_knowledge_base
from mesoscreen.knowledge.planning_loader import load_formulary

SOURCE = Path(__file__).parents[4] / "src/mesoscreen"
_FIELD_LITERAL = re.compile(r'problem\(\s*Reason\.[A-Z_]+,\s*"([a-z_]+)"')
_CODE_LIKE = re.compile(r"'[a-z_]+'|[a-z]+_[a-z_]+|\bgot\b")


@pytest.fixture(scope="module")
def words() -> RefusalWords:
    """The words of the shipped knowledge base and formulary."""
    kb = load_knowledge_base()
    return RefusalWords(kb, load_formulary(kb=kb))


@pytest.mark.parametrize("language", list(Language))
def test_every_reason_code_has_words_in_every_language(language: Language) -> None:
    """A reason without a sentence in a language fails here, not in front of a clinician."""
    t = messages()[language]
    missing = [reason.value for reason in Reason if f"refusals.{reason.value}" not in t]
    assert missing == []
    assert all(t.gettext(f"refusals.{reason.value}").strip() for reason in Reason)


def test_both_languages_fill_in_the_same_values() -> None:
    """A sentence's %(names)s are the same in English and Vietnamese."""
    english, vietnamese = messages()[Language.EN], messages()[Language.VI]
    differing = [
        r.value
        for r in Reason
        if placeholders(english[f"refusals.{r.value}"])
        != placeholders(vietnamese[f"refusals.{r.value}"])
    ]
    assert differing == []


def test_every_field_a_refusal_names_has_a_label_in_every_language() -> None:
    """Each field the code names in a problem is a label on the page, never its code."""
    fields = set()
    for module in SOURCE.rglob("*.py"):
        fields |= set(_FIELD_LITERAL.findall(module.read_text("utf-8")))
    assert {"taken_on", "product", "screening", "depth_mm"} <= fields  # the scan sees them
    for language in Language:
        labels = messages()[language]
        assert sorted(f for f in fields if f"field_names.{f}" not in labels) == [], language


def test_an_excluded_ingredient_is_said_with_the_products_and_findings_names(
    words: RefusalWords,
) -> None:
    """The plan gate's refusal names product, ingredient and finding in the reader's words."""
    constraints = ScreeningConstraints(
        Outcome.SPECIALIST_CLEARANCE, (),
        {"minoxidil": Exclusion("cardiovascular_managed", "tag:vasodilator")},
    )  # fmt: skip
    product = load_formulary().products["minoxidil_0_5"]
    with pytest.raises(PlanError) as refused:
        constraints.check(product, ())
    english = words.say(refused.value, messages()[Language.EN], Language.EN)
    vietnamese = words.say(refused.value, messages()[Language.VI], Language.VI)
    assert english.startswith("Product: ")
    assert "which this patient's screening rules out (Stably managed cardiovascular" in english
    assert vietnamese.startswith("Sản phẩm: ")
    assert "Bệnh tim mạch đã kiểm soát ổn định" in vietnamese
    for sentence in (english, vietnamese):
        assert not _CODE_LIKE.search(sentence), sentence


def test_a_photo_dated_in_the_future_reads_with_the_fields_label_and_the_date(
    words: RefusalWords,
) -> None:
    """The date is written as each language writes it, beside the form's label."""
    refused = InputError("photo 'taken_on': must not lie in the future (got 2027-03-01)",
                         problems=problem(Reason.IN_THE_FUTURE, "taken_on",
                                          got=date(2027, 3, 1)))  # fmt: skip
    assert words.say(refused, messages()[Language.EN], Language.EN) == (
        "Date taken: cannot be in the future (you entered 1 Mar 2027)."
    )
    assert words.say(refused, messages()[Language.VI], Language.VI) == (
        "Ngày chụp: không được là ngày trong tương lai (bạn đã nhập 01/03/2027)."
    )


def test_numbers_in_a_refusal_use_the_languages_decimal_mark(words: RefusalWords) -> None:
    """0.5 cm in English is 0,5 cm in Vietnamese."""
    refused = PlanError("'spacing_cm': ...", field="spacing_cm",
                        problems=problem(Reason.OUT_OF_RANGE, "spacing_cm", low=0.5, high=2,
                                         got=2.5, unit="cm"))  # fmt: skip
    assert "0,5" in words.say(refused, messages()[Language.VI], Language.VI)
    assert "from 0.5 to 2 cm" in words.say(refused, messages()[Language.EN], Language.EN)


def test_an_error_raised_without_a_reason_still_reads_in_words(words: RefusalWords) -> None:
    """Its class's code stands in, on its field when it has one; the message never shows."""
    bare = ConflictError("screening 'x': something internal")
    assert bare.problems[0].code is Reason.CONFLICT
    said = words.say(bare, messages()[Language.VI], Language.VI)
    assert said == messages()[Language.VI].gettext("refusals.conflict")
    plan = PlanError("'zones': internal", field="zones")
    assert words.say(plan, messages()[Language.EN], Language.EN).startswith("Zones: ")


def test_an_intake_answer_is_named_by_its_question(words: RefusalWords) -> None:
    """An intake field is the question's own text, not its id."""
    kb = load_knowledge_base()
    labels = messages()[Language.VI]
    question = next(q for q in kb.questions if f"field_names.{q.id}" not in labels)
    said = words.say(IntakeError(question.id, "bad"), messages()[Language.VI], Language.VI)
    assert said.startswith(f"“{question.text.vi}”")
    assert question.id not in said


def _subclasses(kind: type) -> list[type]:
    found = [kind]
    for sub in kind.__subclasses__():
        found += _subclasses(sub)
    return found


def test_every_error_a_page_can_show_has_a_reason_of_its_own() -> None:
    """A new kind of refusal is said in its own words, not in its parent's."""
    shown = (InputError, ConflictError, PermissionDeniedError, NotFoundError)
    classes = {cls for kind in shown for cls in _subclasses(kind)}
    assert len(classes) > 10  # the walk sees the tree
    missing = sorted(c.__name__ for c in classes if c.code not in Reason._value2member_map_)
    assert missing == []


def test_a_weak_password_is_said_with_its_rule(words: RefusalWords) -> None:
    """The password rule's figure, under the field's label, in both languages."""
    with pytest.raises(WeakPasswordError) as refused:
        check_password_strength("short", "someone")
    assert words.say(refused.value, messages()[Language.EN], Language.EN) == (
        f"Password: at least {MIN_PASSWORD_LENGTH} characters."
    )
    assert words.say(refused.value, messages()[Language.VI], Language.VI) == (
        f"Mật khẩu: tối thiểu {MIN_PASSWORD_LENGTH} ký tự."
    )


def test_a_date_after_the_screening_is_said_with_both_dates(words: RefusalWords) -> None:
    """The intake's refusal names the question by its text and both dates in words."""
    kb = load_knowledge_base()
    schema = IntakeSchema(kb.questions)
    with pytest.raises(IntakeError) as refused:
        schema.parse({"weaned_on": "2026-12-01"}, date(2026, 11, 25))
    said = words.say(refused.value, messages()[Language.EN], Language.EN)
    assert said == (
        "“On what date did breastfeeding end?”: cannot be after the screening date, 25 Nov 2026 "
        "(you entered 1 Dec 2026)."
    )
