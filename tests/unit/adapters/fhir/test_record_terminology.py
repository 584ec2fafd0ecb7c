"""Records from real systems: SNOMED CT descendants, three ICD-10s, clinical-drug RxNorm, ATC,
LOINC answers, qualified text, dates in every R4 form, and deceased patients."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mesoscreen.adapters.fhir.record_facts import RecordReader
from mesoscreen.knowledge.valuesets import default_value_sets

READER = RecordReader.default()
ON = date(2026, 11, 25)
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
WHO = "http://hl7.org/fhir/sid/icd-10"
GM = "http://fhir.de/CodeSystem/bfarm/icd-10-gm"
CM = "http://hl7.org/fhir/sid/icd-10-cm"
ATC = "http://www.whocc.no/atc"


def _concept(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding = {"system": system, "code": code, **({"display": display} if display else {})}
    return {"coding": [coding], **({"text": display} if display else {})}


def _condition(concept: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "c1", "code": concept, **extra}


def _answers(*resources: dict[str, Any]) -> dict[str, object]:
    return READER.read(list(resources), ON).answers


@pytest.mark.parametrize(
    ("system", "code", "question"),
    [
        (SNOMED, "109355002", "cancer_history"),  # carcinoma in situ
        (SNOMED, "128462008", "cancer_history"),  # secondary malignant neoplasm
        (SNOMED, "93143009", "cancer_history"),  # leukaemia
        (SNOMED, "84114007", "cardiovascular_disease"),  # heart failure
        (SNOMED, "410429000", "cardiovascular_disease"),  # cardiac arrest
        (SNOMED, "85898001", "cardiovascular_disease"),  # cardiomyopathy
        (SNOMED, "49436004", "cardiovascular_disease"),  # atrial fibrillation
        (SNOMED, "399211009", "myocardial_infarction_history"),  # history of MI
        (SNOMED, "302215000", "clotting_disorder"),  # thrombocytopenia
        (SNOMED, "34801009", "pregnant"),  # ectopic pregnancy
        (GM, "C50.9", "cancer_history"),
        (GM, "C50.9+", "cancer_history"),
        (WHO, "D05.1", "cancer_history"),
        (CM, "C7B00", "cancer_history"),
        (GM, "I50.13", "cardiovascular_disease"),
        (WHO, "I46.9", "cardiovascular_disease"),
        (WHO, "I42.0", "cardiovascular_disease"),
        (CM, "I252", "myocardial_infarction_history"),
        (GM, "D69.6", "clotting_disorder"),
        (GM, "O00.1", "pregnant"),
        (GM, "S01.0", "treatment_area_wound_or_infection"),
    ],
)
def test_codes_from_every_system_in_scope_show_their_fact(
    system: str, code: str, question: str
) -> None:
    """SNOMED CT descendants and ICD-10 (WHO, GM, CM; dotted or not, with marks) are read."""
    assert _answers(_condition(_concept(system, code))).get(question) == "yes"


@pytest.mark.parametrize(
    ("system", "code"),
    [(WHO, "D36.9"), (GM, "I83.9"), (CM, "Z80.3"), (GM, "Z12.3"), (SNOMED, "55822004")],
)
def test_benign_family_history_screening_and_venous_codes_show_nothing(
    system: str, code: str
) -> None:
    """Benign neoplasm, varicose veins, family history, screening: no fact is set."""
    assert _answers(_condition(_concept(system, code))) == {}


@pytest.mark.parametrize(
    ("code", "display"),
    [
        ("309362", "clopidogrel 75 MG Oral Tablet"),
        ("1116635", "ticagrelor 90 MG Oral Tablet"),
        ("243670", "aspirin 81 MG Oral Tablet"),
        ("1364445", "apixaban 5 MG Oral Tablet"),
        ("32968", "clopidogrel"),
        ("613391", "prasugrel"),
    ],
)
def test_clinical_drug_rxnorm_codes_show_a_blood_thinner_without_their_text(
    code: str, display: str
) -> None:
    """SCD/SBD/IN codes are mapped to their ingredient; the display is not needed."""
    statement = {
        "resourceType": "MedicationStatement",
        "id": "m",
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
    }
    assert _answers(statement).get("anticoagulant_use") == "yes", display


def test_aspirin_at_an_analgesic_dose_is_not_a_blood_thinner() -> None:
    """Aspirin 500 mg (an analgesic product) does not show daily antiplatelet use."""
    statement = {"resourceType": "MedicationStatement", "id": "m", "status": "active",
                 "medicationCodeableConcept": _concept(RXNORM, "198471",
                                                       "aspirin 500 MG Oral Tablet")}  # fmt: skip
    assert "anticoagulant_use" not in _answers(statement)


def test_atc_codes_show_the_drug_when_no_rxnorm_is_sent() -> None:
    """B01AC04 (clopidogrel) and A10AE04 (insulin glargine) are read by their ATC prefix."""
    for code, question in (("B01AC04", "anticoagulant_use"),
                           ("A10AE04", "insulin_dependent_diabetes")):  # fmt: skip
        request = {
            "resourceType": "MedicationRequest",
            "id": "r",
            "status": "active",
            "medicationCodeableConcept": {"coding": [{"system": ATC, "code": code}]},
        }
        assert _answers(request).get(question) == "yes"


def test_the_question_examples_are_drugs_of_its_value_set() -> None:
    """Every drug the blood-thinner question names is an ingredient of its value set, and
    the antiplatelets are classed as such."""
    fact = next(f for f in default_value_sets().facts if f.question == "anticoagulant_use")
    classes = dict(fact.ingredients)
    for drug in ("clopidogrel", "prasugrel", "ticagrelor", "aspirin"):
        assert classes[drug] == "antiplatelet"
    assert all(source.title for source in fact.sources)


@pytest.mark.parametrize(
    ("code", "value", "shows"),
    [
        ("82810-3", {"valueCodeableConcept": _concept(LOINC, "LA15173-0")}, True),
        ("82810-3", {"valueCodeableConcept": _concept(LOINC, "LA26683-5")}, False),
        ("82810-3", {"valueCodeableConcept": _concept(LOINC, "LA4489-6")}, False),
        ("82810-3", {"valueBoolean": True}, True),
        ("82810-3", {"valueBoolean": False}, False),
        ("82810-3", {"valueCodeableConcept": _concept(
            "http://terminology.hl7.org/CodeSystem/v2-0136", "Y")}, True),
        ("82810-3", {"valueCodeableConcept": _concept(
            "http://terminology.hl7.org/CodeSystem/v2-0136", "N")}, False),
        ("63895-7", {"valueCodeableConcept": _concept(LOINC, "LA29252-6")}, True),
        ("63895-7", {"valueCodeableConcept": _concept(LOINC, "LA29253-4")}, False),
    ],
)  # fmt: skip
def test_loinc_answers_booleans_and_v2_yes_no_are_read(
    code: str, value: dict[str, Any], shows: bool
) -> None:
    """Only a yes answer sets pregnancy or breastfeeding."""
    observation = {
        "resourceType": "Observation",
        "id": "o",
        "status": "final",
        "code": _concept(LOINC, code),
        "effectiveDateTime": "2026-11-01",
        **value,
    }
    answers = _answers(observation)
    assert (("pregnant" in answers) or ("breastfeeding" in answers)) is shows


@pytest.mark.parametrize(
    "text",
    [
        "Suspected malignant neoplasm",
        "Family history of cancer",
        "Screening for cancer",
        "Fear of cancer",
        "Benign neoplasm of prostate",
        "Cancer ruled out",
    ],
)
def test_text_with_a_qualifier_sets_nothing(text: str) -> None:
    """Qualified uncoded text is neither a yes nor a hint."""
    facts = READER.read([_condition({"text": text})], ON)
    assert facts.answers == {}
    assert facts.hints == {}


def test_uncoded_text_naming_a_risk_is_a_hint_never_a_yes() -> None:
    """'Neoplasm of prostate' without a code: the question stays open, with a hint."""
    facts = READER.read([_condition({"text": "Neoplasm of prostate"})], ON)
    assert "cancer_history" not in facts.answers
    assert facts.hints["cancer_history"] == [
        "the record mentions 'Neoplasm of prostate' (Condition/c1)"
    ]


def test_a_provisional_diagnosis_is_a_hint_never_a_yes() -> None:
    """verificationStatus provisional: asked, not assumed."""
    status = _concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "provisional")
    facts = READER.read([_condition(_concept(GM, "C61", "Prostatakarzinom"),
                                    verificationStatus=status)], ON)  # fmt: skip
    assert "cancer_history" not in facts.answers
    assert "cancer_history" in facts.hints


@pytest.mark.parametrize(
    ("dates", "current"),
    [
        ({"onsetPeriod": {"start": "2026-11-01"}}, True),
        ({"onsetPeriod": {"start": "2024-01-01", "end": "2024-02-01"}}, False),
        ({"onsetDateTime": "2026-11-01", "abatementDateTime": "2026-11-20"}, False),
        ({"onsetDateTime": "2026-11-01", "abatementDateTime": "2026-12-20"}, True),
        ({"onsetDateTime": "2026-11-01", "abatementPeriod": {"start": "2026-11-10"}}, False),
        ({"onsetDateTime": "2026-11-01", "abatementString": "after treatment"}, False),
        ({"onsetDateTime": "2026-11-01", "abatementBoolean": True}, False),
        ({"onsetAge": {"value": 30, "code": "a", "system": "http://unitsofmeasure.org"}}, False),
        ({"onsetAge": {"value": 35, "code": "a", "system": "http://unitsofmeasure.org"}}, True),
        ({"onsetRange": {"low": {"value": 29, "code": "a"}, "high": {"value": 30, "code": "a"}}},
         False),
        ({"onsetString": "last spring"}, True),
    ],
)  # fmt: skip
def test_condition_dates_in_every_r4_form_decide_whether_it_is_current(
    dates: dict[str, Any], current: bool
) -> None:
    """A scalp infection (90-day window) read with onset[x] and abatement[x] in every form;
    an undated onset counts (fail safe), an abatement on or before the day ends it."""
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1991-12-01"}
    condition = _condition(_concept(GM, "B35.0"), **dates)
    facts = READER.read([patient, condition], ON)
    assert (facts.answers.get("treatment_area_wound_or_infection") == "yes") is current


def test_a_history_fact_counts_after_its_abatement() -> None:
    """A cancer that abated is still a history of cancer."""
    condition = _condition(_concept(GM, "C50.9"), abatementDateTime="2020-01-01")
    assert _answers(condition).get("cancer_history") == "yes"


def test_an_observation_period_older_than_its_window_is_not_current() -> None:
    """A pregnancy observed in 2024 (effectivePeriod) does not defer treatment in 2026."""
    observation = {"resourceType": "Observation", "id": "o", "status": "final",
                   "code": _concept(LOINC, "82810-3"),
                   "effectivePeriod": {"start": "2024-03-01", "end": "2024-03-01"},
                   "valueCodeableConcept": _concept(LOINC, "LA15173-0")}  # fmt: skip
    assert "pregnant" not in _answers(observation)
    observation["effectiveInstant"] = "2026-11-20T10:00:00Z"
    del observation["effectivePeriod"]
    assert _answers(observation).get("pregnant") == "yes"


def test_an_order_whose_validity_ended_long_ago_is_not_current() -> None:
    """dispenseRequest.validityPeriod ended over a year ago: no blood thinner now."""
    request = {"resourceType": "MedicationRequest", "id": "r", "status": "active",
               "authoredOn": "2023-01-01",
               "dispenseRequest": {"validityPeriod": {"start": "2023-01-01", "end": "2023-06-01"}},
               "medicationCodeableConcept": _concept(RXNORM, "11289")}  # fmt: skip
    assert "anticoagulant_use" not in _answers(request)
    request["dispenseRequest"]["validityPeriod"]["end"] = "2027-01-01"
    assert _answers(request).get("anticoagulant_use") == "yes"


def test_the_evidence_shows_the_dates_used() -> None:
    """Each resource behind a fact carries the dates it was judged by."""
    condition = _condition(_concept(GM, "B35.0"), onsetDateTime="2026-11-01",
                           abatementDateTime="2026-12-20")  # fmt: skip
    facts = READER.read([condition], ON)
    assert facts.dates["Condition/c1"] == "onset 2026-11-01, abated 2026-12-20"


@pytest.mark.parametrize(
    ("patient", "deceased"),
    [
        ({"deceasedBoolean": True}, "Patient/p"),
        ({"deceasedDateTime": "2025-03-02T10:00:00Z"}, "Patient/p (died 2025-03-02)"),
        ({"deceasedDateTime": "2027-03-02"}, None),
        ({"deceasedBoolean": False}, None),
        ({}, None),
    ],
)
def test_a_deceased_patient_is_marked(patient: dict[str, Any], deceased: str | None) -> None:
    """deceasedBoolean true or a deceasedDateTime on or before the day marks the record."""
    facts = READER.read([{"resourceType": "Patient", "id": "p", **patient}], ON)
    assert facts.deceased == deceased
