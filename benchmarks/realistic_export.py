"""Exports shaped like real ones, with the truth about every patient, for recall and speed.

Record systems and generators such as Synthea write one transaction Bundle per patient:
Encounters, Claims and ExplanationOfBenefits for every visit, hundreds to thousands of
Observations (vitals, labs, surveys), conditions that began and ended, medication orders of
clinical-drug or branded RxNorm codes (or only ATC, as European systems send), and about one
patient in five deceased. The risks here are coded the way such systems code them (SNOMED CT
descendants, ICD-10 in its WHO, German and US forms, RxNorm SCD/SBD, LOINC answers), written
from those systems' own code lists, not from Mesoscreen's value sets, so the recall measured
is the reader's and not a tautology. Each patient comes with what a reader should find:
``truth`` holds the intake questions the record shows as yes; distractors (benign, family
history, screening, ended, refuted, provisional, old) must not show anything.

Deterministic for a seed. Names are invented.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

SNOMED = "http://snomed.info/sct"
WHO = "http://hl7.org/fhir/sid/icd-10"
GM = "http://fhir.de/CodeSystem/bfarm/icd-10-gm"
CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
MARITAL = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
BB_ADJUDICATION = "https://bluebutton.cms.gov/resources/codesystem/adjudication"
BB_COINSURANCE = "https://bluebutton.cms.gov/resources/variables/line_coinsrnc_amt"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
NARRATIVE = '<div xmlns="http://www.w3.org/1999/xhtml">Generated</div>'

# question, resource kind, (system, code, display), whether the fact is a history (abated
# conditions still count).
RISKS: list[tuple[str, str, tuple[str, str, str]]] = [
    (
        "cancer_history",
        "Condition",
        (SNOMED, "254837009", "Malignant neoplasm of breast (disorder)"),
    ),
    (
        "cancer_history",
        "Condition",
        (SNOMED, "424132000", "Non-small cell carcinoma of lung, TNM stage 1 (disorder)"),
    ),
    (
        "cancer_history",
        "Condition",
        (SNOMED, "92691004", "Carcinoma in situ of prostate (disorder)"),
    ),
    (
        "cancer_history",
        "Condition",
        (SNOMED, "94260004", "Secondary malignant neoplasm of colon (disorder)"),
    ),
    (
        "cancer_history",
        "Condition",
        (SNOMED, "91861009", "Acute myeloid leukemia, disease (disorder)"),
    ),
    (
        "cancer_history",
        "Condition",
        (GM, "C50.4", "Bösartige Neubildung: Oberer äußerer Quadrant der Brustdrüse"),
    ),
    ("cancer_history", "Condition", (WHO, "C18.7", "Malignant neoplasm: Sigmoid colon")),
    (
        "cancer_history",
        "Condition",
        (CM, "Z85.3", "Personal history of malignant neoplasm of breast"),
    ),
    ("cancer_history", "Condition", (GM, "D05.1", "Carcinoma in situ der Milchgänge")),
    (
        "myocardial_infarction_history",
        "Condition",
        (SNOMED, "22298006", "Myocardial infarction (disorder)"),
    ),
    (
        "myocardial_infarction_history",
        "Condition",
        (SNOMED, "399211009", "History of myocardial infarction (situation)"),
    ),
    (
        "myocardial_infarction_history",
        "Condition",
        (GM, "I21.4", "Akuter subendokardialer Myokardinfarkt"),
    ),
    ("myocardial_infarction_history", "Condition", (CM, "I25.2", "Old myocardial infarction")),
    ("cardiovascular_disease", "Condition", (SNOMED, "53741008", "Coronary Heart Disease")),
    (
        "cardiovascular_disease",
        "Condition",
        (SNOMED, "88805009", "Chronic congestive heart failure (disorder)"),
    ),
    ("cardiovascular_disease", "Condition", (SNOMED, "410429000", "Cardiac Arrest")),
    ("cardiovascular_disease", "Condition", (SNOMED, "49436004", "Atrial Fibrillation")),
    ("cardiovascular_disease", "Condition", (SNOMED, "85898001", "Cardiomyopathy (disorder)")),
    (
        "cardiovascular_disease",
        "Condition",
        (GM, "I50.13", "Linksherzinsuffizienz: Mit Beschwerden bei stärkerer Belastung"),
    ),
    ("cardiovascular_disease", "Condition", (WHO, "I34.0", "Mitral (valve) insufficiency")),
    ("cardiovascular_disease", "Condition", (GM, "I42.0", "Dilatative Kardiomyopathie")),
    (
        "insulin_dependent_diabetes",
        "Condition",
        (SNOMED, "46635009", "Diabetes mellitus type 1 (disorder)"),
    ),
    (
        "insulin_dependent_diabetes",
        "Condition",
        (GM, "E10.90", "Diabetes mellitus, Typ 1: Ohne Komplikationen"),
    ),
    (
        "insulin_dependent_diabetes",
        "MedicationRequest",
        (
            RXNORM,
            "106892",
            "insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML "
            "Injectable Suspension [Humulin]",
        ),
    ),
    (
        "insulin_dependent_diabetes",
        "MedicationRequest",
        (RXNORM, "311041", "insulin glargine 100 UNT/ML Injectable Solution"),
    ),
    ("insulin_dependent_diabetes", "MedicationStatement", (ATC, "A10AE04", "Insulin glargin")),
    (
        "clotting_disorder",
        "Condition",
        (SNOMED, "302215000", "Thrombocytopenic disorder (disorder)"),
    ),
    ("clotting_disorder", "Condition", (SNOMED, "90935002", "Hemophilia (disorder)")),
    ("clotting_disorder", "Condition", (GM, "D68.0", "Willebrand-Jürgens-Syndrom")),
    ("clotting_disorder", "Condition", (CM, "D69.6", "Thrombocytopenia, unspecified")),
    ("anticoagulant_use", "MedicationRequest", (RXNORM, "309362", "clopidogrel 75 MG Oral Tablet")),
    (
        "anticoagulant_use",
        "MedicationRequest",
        (RXNORM, "855332", "warfarin sodium 5 MG Oral Tablet"),
    ),
    ("anticoagulant_use", "MedicationRequest", (RXNORM, "1364445", "apixaban 5 MG Oral Tablet")),
    ("anticoagulant_use", "MedicationStatement", (RXNORM, "243670", "aspirin 81 MG Oral Tablet")),
    ("anticoagulant_use", "MedicationRequest", (RXNORM, "1116635", "ticagrelor 90 MG Oral Tablet")),
    ("anticoagulant_use", "MedicationStatement", (ATC, "B01AC04", "Clopidogrel")),
    ("anticoagulant_use", "Condition", (CM, "Z79.01", "Long term (current) use of anticoagulants")),
    ("pregnant", "Condition", (SNOMED, "72892002", "Normal pregnancy")),
    ("pregnant", "Condition", (SNOMED, "79586000", "Tubal pregnancy")),
    ("pregnant", "Condition", (GM, "Z34", "Überwachung einer normalen Schwangerschaft")),
    ("pregnant", "Observation", (LOINC, "LA15173-0", "Pregnant")),
    ("pregnant", "Observation", ("boolean", "true", "")),
    ("breastfeeding", "Observation", (LOINC, "LA29252-6", "Currently breastfeeding")),
    (
        "breastfeeding",
        "Condition",
        (CM, "Z39.1", "Encounter for care and examination of lactating mother"),
    ),
    ("treatment_area_wound_or_infection", "Condition", (SNOMED, "5441008", "Tinea capitis")),
    (
        "treatment_area_wound_or_infection",
        "Condition",
        (GM, "S01.0", "Offene Wunde der behaarten Kopfhaut"),
    ),
    (
        "treatment_area_wound_or_infection",
        "Condition",
        (WHO, "B35.0", "Tinea barbae and tinea capitis"),
    ),
]
HISTORY = frozenset({"cancer_history", "myocardial_infarction_history"})
WINDOW_DAYS = {
    "pregnant": 280,
    "breastfeeding": 180,
    "treatment_area_wound_or_infection": 90,
    "anticoagulant_use": 365,
}
OBSERVED = {"pregnant": "82810-3", "breastfeeding": "63895-7"}
# An infarction that has not abated is also current (ischaemic) cardiovascular disease.
ALSO_CURRENT = {"myocardial_infarction_history": "cardiovascular_disease"}

# Codes and texts that must not show a fact.
DISTRACTOR_CONDITIONS = [
    (SNOMED, "126906006", "Neoplasm of prostate"),  # not coded as malignant: a hint at most
    (SNOMED, "44054006", "Diabetes mellitus type 2 (disorder)"),
    (SNOMED, "15777000", "Prediabetes"),
    (SNOMED, "271737000", "Anemia (disorder)"),
    (WHO, "D36.9", "Benign neoplasm, unspecified site"),
    (GM, "Z80.3", "Bösartige Neubildung der Brustdrüse in der Familienanamnese"),
    (CM, "Z12.31", "Encounter for screening mammogram for malignant neoplasm of breast"),
    (GM, "I83.9", "Varizen der unteren Extremitäten ohne Ulzeration oder Entzündung"),
    (CM, "Z32.02", "Encounter for pregnancy test, result negative"),
]
DISTRACTOR_TEXTS = [
    "Family history of breast cancer",
    "Suspected heart failure",
    "Screening for malignant neoplasm of colon",
    "Fear of cancer",
    "Benign neoplasm of skin",
    "Pulmonary embolism ruled out",
]
DISTRACTOR_MEDICATIONS = [
    (RXNORM, "198471", "aspirin 500 MG Oral Tablet"),  # an analgesic dose
    (RXNORM, "860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"),
    (RXNORM, "314076", "lisinopril 10 MG Oral Tablet"),
    (ATC, "A10BA02", "Metformin"),
]
NOISE_CONDITIONS = [
    (SNOMED, "444814009", "Viral sinusitis (disorder)"),
    (SNOMED, "10509002", "Acute bronchitis (disorder)"),
    (SNOMED, "55822004", "Hyperlipidemia"),
    (SNOMED, "162864005", "Body mass index 30+ - obesity (finding)"),
    (GM, "J06.9", "Akute Infektion der oberen Atemwege, nicht näher bezeichnet"),
    (GM, "L64.9", "Alopecia androgenetica, nicht näher bezeichnet"),
]
LABS = [
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 11, 17),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4, 10),
    ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 120, 280),
    ("8867-4", "Heart rate", "/min", 50, 110),
    ("39156-5", "Body mass index", "kg/m2", 17, 40),
    ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 120, 420),
    ("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 60, 200),
]


@dataclass
class Patient:
    """One patient's resources and what a reader should find in them."""

    resources: list[dict[str, Any]]
    truth: set[str] = field(default_factory=set)
    deceased: bool = False


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], "text": display} if display else {"coding": [coding]}


class RealisticExport:
    """Generates patients shaped like real exports from a seed."""

    def __init__(
        self, seed: int = 18, on: date = date(2026, 11, 25), observations: int = 300
    ) -> None:
        self.rng = random.Random(seed)
        self.on = on
        self.observations = observations

    def _day(self, low: int, high: int) -> str:
        return (self.on - timedelta(days=self.rng.randint(low, high))).isoformat()

    def _id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def patient(self, index: int) -> Patient:
        """One patient's record and truth."""
        rng = self.rng
        pid = self._id()
        female = rng.random() < 0.55
        born = self._day(18 * 365, 80 * 365)
        patient: dict[str, Any] = {
            "resourceType": "Patient",
            "id": pid,
            "meta": {
                "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]
            },
            "text": {"status": "generated", "div": NARRATIVE},
            "identifier": [
                {"system": "https://github.com/synthetichealth/synthea", "value": pid},
                {
                    "type": {"coding": [{"system": V2_0203, "code": "MR"}]},
                    "system": "http://hospital.example.org",
                    "value": pid,
                },
            ],
            "name": [
                {
                    "use": "official",
                    "family": f"Family{index % 97}",
                    "given": [f"Given{index % 89}"],
                }
            ],
            "telecom": [{"system": "phone", "value": f"555-{index:07d}", "use": "home"}],
            "gender": "female" if female else "male",
            "birthDate": born,
            "address": [
                {
                    "line": [f"{index} Main St"],
                    "city": "Springfield",
                    "state": "MA",
                    "postalCode": "01101",
                    "country": "US",
                }
            ],
            "maritalStatus": {"coding": [{"system": MARITAL, "code": "M"}]},
            "communication": [
                {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en-US"}]}}
            ],
        }
        result = Patient([patient])
        if rng.random() < 0.2:
            result.deceased = True
            if rng.random() < 0.5:
                patient["deceasedDateTime"] = f"{self._day(1, 2000)}T04:12:00+00:00"
            else:
                patient["deceasedBoolean"] = True
        subject = {"reference": f"urn:uuid:{pid}"}
        encounters = [self._encounter(subject) for _ in range(rng.randint(5, 40))]
        result.resources += encounters
        for encounter in encounters:
            result.resources += self._billing(subject, encounter)
        for _ in range(rng.randint(1, 6)):
            result.resources.append(
                self._condition(subject, rng.choice(NOISE_CONDITIONS), abated=rng.random() < 0.5)
            )
        count = self.observations * (10 if rng.random() < 0.05 else 1)
        for _ in range(rng.randint(count // 4, count)):
            result.resources.append(self._lab(subject))
        for _ in range(rng.randint(0, 3)):
            self._risk(result, subject, female)
        for _ in range(rng.randint(0, 2)):
            self._distractor(result, subject)
        if result.deceased:
            result.truth.clear()
        return result

    def _encounter(self, subject: dict[str, Any]) -> dict[str, Any]:
        start = self._day(1, 4000)
        return {
            "resourceType": "Encounter",
            "id": self._id(),
            "status": "finished",
            "class": {"system": ACT_CODE, "code": "AMB"},
            "type": [_concept(SNOMED, "185349003", "Encounter for check up (procedure)")],
            "subject": subject,
            "participant": [
                {"individual": {"reference": f"urn:uuid:{self._id()}", "display": "Dr. Example"}}
            ],
            "period": {"start": f"{start}T09:00:00+00:00", "end": f"{start}T09:30:00+00:00"},
            "serviceProvider": {"reference": f"urn:uuid:{self._id()}", "display": "CLINIC"},
        }

    def _billing(self, subject: dict[str, Any], encounter: dict[str, Any]) -> list[dict[str, Any]]:
        claim_id = self._id()
        items = [
            {
                "sequence": n + 1,
                "productOrService": _concept(SNOMED, "185349003", "Check up"),
                "encounter": [{"reference": f"urn:uuid:{encounter['id']}"}],
                "net": {"value": 136.8, "currency": "USD"},
            }
            for n in range(self.rng.randint(1, 4))
        ]
        claim = {
            "resourceType": "Claim",
            "id": claim_id,
            "status": "active",
            "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
            "use": "claim",
            "patient": subject,
            "billablePeriod": encounter["period"],
            "created": encounter["period"]["end"],
            "provider": encounter["serviceProvider"],
            "priority": {"coding": [{"system": PRIORITY, "code": "normal"}]},
            "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "Medicare"}}],
            "item": items,
            "total": {"value": 136.8 * len(items), "currency": "USD"},
        }
        eob = {
            "resourceType": "ExplanationOfBenefit",
            "id": self._id(),
            "status": "active",
            "type": claim["type"],
            "use": "claim",
            "patient": subject,
            "billablePeriod": encounter["period"],
            "created": encounter["period"]["end"],
            "insurer": {"display": "Medicare"},
            "provider": encounter["serviceProvider"],
            "claim": {"reference": f"urn:uuid:{claim_id}"},
            "outcome": "complete",
            "insurance": [{"focal": True, "coverage": {"display": "Medicare"}}],
            "item": [
                {
                    **item,
                    "adjudication": [
                        {
                            "category": {
                                "coding": [{"system": BB_ADJUDICATION, "code": BB_COINSURANCE}]
                            },
                            "amount": {"value": 27.36, "currency": "USD"},
                        }
                    ],
                }
                for item in items
            ],
            "total": [
                {
                    "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                    "amount": claim["total"],
                }
            ],
            "payment": {"amount": {"value": 109.44, "currency": "USD"}},
        }
        return [claim, eob]

    def _lab(self, subject: dict[str, Any]) -> dict[str, Any]:
        code, display, unit, low, high = self.rng.choice(LABS)
        return {
            "resourceType": "Observation",
            "id": self._id(),
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory"}]}],
            "code": _concept(LOINC, code, display),
            "subject": subject,
            "encounter": {"reference": f"urn:uuid:{self._id()}"},
            "effectiveDateTime": f"{self._day(1, 4000)}T09:10:00+00:00",
            "issued": f"{self._day(1, 4000)}T09:10:00.000+00:00",
            "valueQuantity": {
                "value": round(self.rng.uniform(low, high), 1),
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            },
        }

    def _condition(
        self,
        subject: dict[str, Any],
        coding: tuple[str, str, str],
        abated: bool = False,
        onset_days: tuple[int, int] = (30, 4000),
        verification: str = "confirmed",
    ) -> dict[str, Any]:
        onset = self._day(*onset_days)
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": self._id(),
            "clinicalStatus": _concept(CLINICAL, "resolved" if abated else "active", ""),
            "verificationStatus": _concept(VERIFICATION, verification, ""),
            "category": [
                _concept(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")
            ],
            "code": _concept(*coding),
            "subject": subject,
            "encounter": {"reference": f"urn:uuid:{self._id()}"},
            "onsetDateTime": f"{onset}T10:00:00+00:00",
            "recordedDate": f"{onset}T10:00:00+00:00",
        }
        if abated:
            resource["abatementDateTime"] = f"{self._day(1, onset_days[0])}T10:00:00+00:00"
            if self.rng.random() < 0.5:
                # Some systems leave clinicalStatus active and only send the abatement.
                resource["clinicalStatus"] = _concept(CLINICAL, "active", "")
        return resource

    def _risk(self, result: Patient, subject: dict[str, Any], female: bool) -> None:
        rng = self.rng
        question, kind, coding = rng.choice(RISKS)
        if question in OBSERVED and not female:
            return
        window = WINDOW_DAYS.get(question)
        recent = (1, window - 5) if window else (30, 4000)
        # Half of the current facts end (or are old) before the screening day.
        ended = question not in HISTORY and rng.random() < 0.5
        if kind == "Condition":
            onset = (1, min(window - 5, 60)) if window else recent
            if ended and window and rng.random() < 0.5:
                onset, ended_by = (window + 30, window + 900), "old"
            else:
                ended_by = "abated" if ended else ""
            abated = ended_by == "abated" or (question in HISTORY and rng.random() < 0.5)
            resource = self._condition(subject, coding, abated=abated, onset_days=onset)
            if question in HISTORY or not ended_by:
                result.truth.add(question)
            if question in ALSO_CURRENT and not abated:
                result.truth.add(ALSO_CURRENT[question])
        elif kind == "Observation":
            system, code, display = coding
            value = (
                {"valueBoolean": True}
                if system == "boolean"
                else {"valueCodeableConcept": _concept(system, code, display)}
            )
            when = (window + 30, window + 900) if ended else (1, min(window - 5, 60))  # type: ignore[operator]
            start = self._day(*when)
            resource = {
                "resourceType": "Observation",
                "id": self._id(),
                "status": "final",
                "category": [_concept(OBSERVATION_CATEGORY, "social-history", "")],
                "code": _concept(LOINC, OBSERVED[question], ""),
                "subject": subject,
                "effectivePeriod": {
                    "start": f"{start}T08:00:00+00:00",
                    "end": f"{start}T08:20:00+00:00",
                },
                **value,
            }
            if not ended:
                result.truth.add(question)
        else:
            resource = self._medication(subject, kind, coding, ended)
            if not ended:
                result.truth.add(question)
        result.resources.append(resource)

    def _medication(
        self, subject: dict[str, Any], kind: str, coding: tuple[str, str, str], ended: bool
    ) -> dict[str, Any]:
        started = self._day(400, 3000)
        resource: dict[str, Any] = {
            "resourceType": kind,
            "id": self._id(),
            "status": self.rng.choice(["completed", "stopped"]) if ended else "active",
            "medicationCodeableConcept": _concept(*coding),
            "subject": subject,
        }
        if kind == "MedicationRequest":
            resource |= {
                "intent": "order",
                "authoredOn": f"{started}T10:00:00+00:00",
                "requester": {"reference": f"urn:uuid:{self._id()}"},
                "dosageInstruction": [{"sequence": 1, "asNeededBoolean": False}],
                "dispenseRequest": {"validityPeriod": {"start": started}},
            }
        else:
            resource["effectivePeriod"] = {"start": started}
        return resource

    def _distractor(self, result: Patient, subject: dict[str, Any]) -> None:
        rng = self.rng
        pick = rng.random()
        if pick < 0.35:
            result.resources.append(self._condition(subject, rng.choice(DISTRACTOR_CONDITIONS)))
        elif pick < 0.6:
            condition = self._condition(subject, ("", "", ""))
            condition["code"] = {"text": rng.choice(DISTRACTOR_TEXTS)}
            result.resources.append(condition)
        elif pick < 0.8:
            # A real risk code that the record itself refutes or only suspects.
            _, _, coding = rng.choice([r for r in RISKS if r[1] == "Condition"])
            status = rng.choice(["refuted", "entered-in-error", "provisional", "differential"])
            result.resources.append(self._condition(subject, coding, verification=status))
        else:
            coding = rng.choice(DISTRACTOR_MEDICATIONS)
            result.resources.append(self._medication(subject, "MedicationRequest", coding, False))

    def patients(self, count: int) -> Iterator[Patient]:
        """``count`` patients."""
        for index in range(count):
            yield self.patient(index)

    def grown_line(self, index: int, target_bytes: int) -> bytes:
        """One patient's transaction Bundle line, grown with laboratory results (a long
        history) to at least ``target_bytes``."""
        patient = self.patient(index)
        subject = {"reference": f"urn:uuid:{patient.resources[0]['id']}"}
        line = orjson.dumps(transaction_of(patient.resources))
        while len(line) < target_bytes:
            lab = self._lab(subject)
            each = len(orjson.dumps(transaction_of([lab])))
            missing = (target_bytes - len(line)) // each + 1
            patient.resources += [lab, *(self._lab(subject) for _ in range(missing - 1))]
            line = orjson.dumps(transaction_of(patient.resources))
        return line


def transaction_of(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A transaction Bundle holding ``resources``, as Synthea writes one per patient."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{r['id']}",
                "resource": r,
                "request": {"method": "POST", "url": r["resourceType"]},
            }
            for r in resources
        ],
    }


def write_realistic_lines(
    path: Path, count: int, seed: int = 18, observations: int = 300
) -> list[Patient]:
    """Write ``count`` patients as one transaction Bundle per line; return them (with truth)."""
    patients = list(RealisticExport(seed, observations=observations).patients(count))
    with path.open("wb") as handle:
        for patient in patients:
            handle.write(orjson.dumps(transaction_of(patient.resources)) + b"\n")
    return patients
