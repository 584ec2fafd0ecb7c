"""A FHIR record shows risks through the shipped value sets, and never shows their absence."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesoscreen.adapters.fhir.record_facts import RecordReader
from mesoscreen.domain.errors import FhirInputError
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.record_identity import bundle_resources
from mesoscreen.services.screening import ScreeningService

READER = RecordReader.default()
SCREENING = ScreeningService(default_knowledge_base())
ON = date(2026, 11, 25)
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _concept(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def condition(
    system: str,
    code: str,
    clinical: str | None = "active",
    verification: str | None = None,
    onset: str | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"c-{code}",
        "code": _concept(system, code),
    }
    if clinical:
        resource["clinicalStatus"] = _concept("http://terminology.hl7.org/CodeSystem/x", clinical)
    if verification:
        resource["verificationStatus"] = _concept(
            "http://terminology.hl7.org/CodeSystem/y", verification
        )
    if onset:
        resource["onsetDateTime"] = onset
    return resource


def observation(code: str, value: dict[str, Any], when: str = "2026-11-01") -> dict[str, Any]:
    return {"resourceType": "Observation", "id": f"o-{code}", "status": "final",
            "code": _concept(LOINC, code), "effectiveDateTime": when, **value}  # fmt: skip


@pytest.mark.parametrize(
    ("resource", "question"),
    [
        (condition(ICD10, "C50.911"), "cancer_history"),
        (condition(ICD10, "C18.9", clinical="remission"), "cancer_history"),
        (condition(SNOMED, "254837009", clinical="resolved"), "cancer_history"),
        (condition(ICD10, "Z85.3", clinical="inactive"), "cancer_history"),
        (condition(ICD10, "E10.65"), "insulin_dependent_diabetes"),
        (condition(SNOMED, "46635009"), "insulin_dependent_diabetes"),
        (condition(ICD10, "I25.2", clinical="resolved"), "myocardial_infarction_history"),
        (condition(ICD10, "I10"), "cardiovascular_disease"),
        (condition(ICD10, "D66"), "clotting_disorder"),
        (condition(ICD10, "B35.0", onset="2026-11-10"), "treatment_area_wound_or_infection"),
        (observation("82810-3", {"valueCodeableConcept": _concept(LOINC, "LA15173-0")}),
         "pregnant"),
        (observation("82810-3", {"valueCodeableConcept": _concept(SNOMED, "77386006")}),
         "pregnant"),
        (observation("63895-7", {"valueBoolean": True}), "breastfeeding"),
        ({"resourceType": "MedicationStatement", "id": "m", "status": "active",
          "medicationCodeableConcept": _concept(RXNORM, "11289")}, "anticoagulant_use"),
        ({"resourceType": "MedicationRequest", "id": "m", "status": "active",
          "medicationCodeableConcept": {"text": "Insulin lispro 100 UNT/ML injection"}},
         "insulin_dependent_diabetes"),
    ],
)  # fmt: skip
def test_a_coded_risk_shows_its_fact_with_the_resource_as_evidence(
    resource: dict[str, Any], question: str
) -> None:
    """Whole ICD-10-CM hierarchies by prefix, SNOMED concepts, LOINC answers, RxNorm and names."""
    facts = READER.read([resource], ON)
    assert facts.answers[question] == "yes"
    assert facts.evidence[question] == [f"{resource['resourceType']}/{resource['id']}"]


@pytest.mark.parametrize(
    "resource",
    [
        condition(ICD10, "C50.911", verification="entered-in-error"),
        condition(ICD10, "E10.9", verification="refuted"),
        condition(ICD10, "I10", clinical="resolved"),
        condition(ICD10, "B35.0", onset="2026-01-10"),
        observation("82810-3", {"valueCodeableConcept": _concept(LOINC, "LA26683-5")}),
        observation("82810-3", {"valueCodeableConcept": _concept(LOINC, "LA15173-0")},
                    when="2024-01-01"),
        {**observation("82810-3", {"valueCodeableConcept": _concept(LOINC, "LA15173-0")}),
         "status": "entered-in-error"},
        {"resourceType": "MedicationStatement", "id": "m", "status": "stopped",
         "medicationCodeableConcept": _concept(RXNORM, "11289")},
        condition(ICD10, "L64.9"),
    ],
)  # fmt: skip
def test_what_does_not_count_leaves_every_risk_unknown(resource: dict[str, Any]) -> None:
    """Entered in error, refuted, resolved current facts, stale dates, 'not pregnant', noise."""
    facts = READER.read([resource], ON)
    assert set(facts.answers) <= {"sex", "birth_date"}


def test_a_record_never_answers_no_so_it_alone_is_never_eligible() -> None:
    """A 'not pregnant' observation and a clean record leave the screening incomplete."""
    resources = [
        {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1990-01-01"},
        observation("82810-3", {"valueCodeableConcept": _concept(LOINC, "LA26683-5")}),
    ]
    facts = READER.read(resources, ON)
    assert "no" not in facts.answers.values()
    decision = SCREENING.screen(facts.answers, ON)
    assert decision.outcome.value == "incomplete"
    assert "pregnant" in decision.missing
    assert "cancer_history" in decision.missing


def test_a_blocking_risk_in_the_record_decides_without_the_patient() -> None:
    """A remitted cancer contraindicates even with everything else unknown."""
    facts = READER.read([condition(ICD10, "C50.911", clinical="remission")], ON)
    assert SCREENING.screen(facts.answers, ON).outcome.value == "contraindicated"


def test_allergies_name_their_substance_by_code_or_text() -> None:
    """A coded lidocaine allergy excludes lidocaine; a text-only one is passed on as text."""
    resources = [
        {"resourceType": "AllergyIntolerance", "id": "a1", "code": _concept(RXNORM, "6387")},
        {"resourceType": "AllergyIntolerance", "id": "a2", "code": {"text": "Peanut"}},
        {"resourceType": "AllergyIntolerance", "id": "a3", "code": {"text": "Latex"},
         "verificationStatus": _concept("http://x", "refuted")},
    ]  # fmt: skip
    facts = READER.read(resources, ON)
    assert facts.answers["allergy_history"] == "yes"
    assert facts.answers["allergens"] == ["lidocaine", "Peanut"]
    decision = SCREENING.screen(facts.answers, ON)
    assert "lidocaine" in {e.ingredient for e in decision.excluded_ingredients}


@pytest.mark.parametrize(
    ("changes", "counts"),
    [
        ({"status": "active", "effectivePeriod": {"start": "2019-02-01"}}, True),
        ({"status": "active", "effectivePeriod": {"start": "2019-02-01", "end": "2026-10-01"}},
         True),
        ({"status": "active", "effectivePeriod": {"start": "2019-02-01", "end": "2024-10-01"}},
         False),
        ({"status": "unknown", "effectiveDateTime": "2026-06-01"}, True),
        ({"status": "unknown", "effectiveDateTime": "2023-06-01"}, False),
        ({"status": "completed", "effectiveDateTime": "2026-11-01"}, False),
    ],
)  # fmt: skip
def test_an_active_medication_is_current_however_long_ago_it_started(
    changes: dict[str, Any], counts: bool
) -> None:
    """Only an ended period or an unknown status is judged by date (365 days for blood thinners)."""
    statement = {"resourceType": "MedicationStatement", "id": "m",
                 "medicationCodeableConcept": _concept(RXNORM, "11289"), **changes}  # fmt: skip
    assert ("anticoagulant_use" in READER.read([statement], ON).answers) is counts


def test_a_medication_by_reference_is_resolved_in_the_record() -> None:
    """MedicationStatement.medicationReference to a Medication in the same record."""
    resources = [
        {"resourceType": "MedicationStatement", "id": "ms", "status": "active",
         "medicationReference": {"reference": "Medication/w"}},
        {"resourceType": "Medication", "id": "w", "code": _concept(RXNORM, "1364430")},
    ]  # fmt: skip
    assert READER.read(resources, ON).answers["anticoagulant_use"] == "yes"


def test_a_bundle_names_its_bad_entry() -> None:
    """An entry without a resource is refused, naming the entry."""
    with pytest.raises(FhirInputError, match=r"Bundle\.entry\[1\]\.resource"):
        bundle_resources({"resourceType": "Bundle",
                          "entry": [{"resource": {"resourceType": "Patient"}},
                                    {"fullUrl": "x"}]})  # fmt: skip


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=20,
)  # fmt: skip
_resource = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Condition", "Observation", "MedicationStatement",
                                      "MedicationRequest", "AllergyIntolerance", "Patient",
                                      "Medication"])},
    optional={key: _json for key in ("code", "clinicalStatus", "verificationStatus", "status",
                                     "valueCodeableConcept", "valueBoolean", "onsetDateTime",
                                     "effectiveDateTime", "medicationCodeableConcept",
                                     "medicationReference", "gender", "birthDate", "id")},
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_resource, max_size=6))
def test_arbitrary_resources_never_crash_and_always_give_a_valid_intake(
    resources: list[dict[str, Any]],
) -> None:
    """Whatever shape a record has, the facts read from it pass the intake validator."""
    facts = READER.read(resources, ON)
    SCREENING.screen(facts.answers, ON)


_PREGNANT = {"valueCodeableConcept": _concept(LOINC, "LA15173-0")}
_WARFARIN = _concept(RXNORM, "11289")


@pytest.mark.parametrize(
    ("resource", "dated"),
    [
        ({**condition(ICD10, "C50.911"), "recordedDate": "2019-05-02"}, "recorded 2019-05-02"),
        ({**condition(ICD10, "C50.911", onset="2018-01"), "recordedDate": "2019-05-02",
          "abatementPeriod": {"start": "2020-02-01", "end": "2020-03-01"}},
         "onset 2018-01-31, abated 2020-02-01 to 2020-03-01"),
        ({**condition(ICD10, "C50.911", onset="2018-01-05"),
          "abatementPeriod": {"end": "2020-03-01"}}, "onset 2018-01-05, abated 2020-03-01"),
        ({k: v for k, v in observation("82810-3", _PREGNANT).items() if k != "effectiveDateTime"}
         | {"issued": "2026-11-20T08:00:00Z"}, "issued 2026-11-20"),
        (observation("82810-3", _PREGNANT, when="2026-11-19T08:00:00+01:00"),
         "effective 2026-11-19"),
        ({"resourceType": "MedicationRequest", "id": "m", "status": "active",
          "medicationCodeableConcept": _WARFARIN, "authoredOn": "2026-10-01",
          "dispenseRequest": {"validityPeriod": {"start": "2026-10-01", "end": "2027-04-01"}}},
         "valid 2026-10-01 to 2027-04-01, authored 2026-10-01"),
        ({"resourceType": "MedicationStatement", "id": "m", "status": "active",
          "medicationCodeableConcept": _WARFARIN, "effectivePeriod": {"start": "2026-01-05"},
          "dateAsserted": "2026-11-02"}, "effective 2026-01-05, asserted 2026-11-02"),
        ({"resourceType": "MedicationStatement", "id": "m", "status": "active",
          "medicationCodeableConcept": _WARFARIN}, None),
    ],
)  # fmt: skip
def test_the_evidence_names_each_date_a_resource_was_judged_by(
    resource: dict[str, Any], dated: str | None
) -> None:
    """The dates behind a fact, each with what it is (a recorded date only when there is no
    onset), and none for an undated resource."""
    facts = READER.read([resource], ON)
    assert facts.answers, "the resource shows a fact"
    reference = f"{resource['resourceType']}/{resource['id']}"
    assert facts.dates.get(reference) == dated
