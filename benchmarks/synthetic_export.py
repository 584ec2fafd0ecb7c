"""A synthetic but realistic FHIR R4 Bulk Data export, for the bulk benchmark and tests.

Patients carry what a real record holds (identifiers, names, addresses, narrative-free
resources with codings, dates, encounters): mostly unrelated conditions and observations,
and, for some, a record of something that rules out or delays mesotherapy. Deterministic
for a given seed. Names are invented.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

# (system, code, display) of conditions that bear on screening, and of noise.
RISK_CONDITIONS = [
    (SNOMED, "46635009", "Diabetes mellitus type 1"),
    (ICD10, "E10.9", "Type 1 diabetes mellitus without complications"),
    (SNOMED, "254837009", "Malignant neoplasm of breast"),
    (ICD10, "C50.911", "Malignant neoplasm of unspecified site of right female breast"),
    (SNOMED, "22298006", "Myocardial infarction"),
    (ICD10, "I25.2", "Old myocardial infarction"),
    (SNOMED, "28293008", "Hereditary factor VIII deficiency disease"),
    (ICD10, "D66", "Hereditary factor VIII deficiency"),
    (SNOMED, "38341003", "Hypertensive disorder"),
    (ICD10, "I50.9", "Heart failure, unspecified"),
]
NOISE_CONDITIONS = [
    (SNOMED, "55822004", "Hyperlipidemia"),
    (SNOMED, "195967001", "Asthma"),
    (ICD10, "J30.9", "Allergic rhinitis, unspecified"),
    (SNOMED, "68566005", "Urinary tract infectious disease"),
    (ICD10, "M54.5", "Low back pain"),
    (SNOMED, "87433001", "Pulmonary emphysema"),
    (ICD10, "L63.9", "Alopecia areata, unspecified"),
    (ICD10, "L64.9", "Androgenic alopecia, unspecified"),
]
RISK_MEDICATIONS = [
    (RXNORM, "11289", "warfarin"),
    (RXNORM, "1364430", "apixaban"),
    (RXNORM, "274783", "insulin glargine"),
    (RXNORM, "32968", "clopidogrel"),
]
NOISE_MEDICATIONS = [
    (RXNORM, "29046", "lisinopril"),
    (RXNORM, "36567", "simvastatin"),
    (RXNORM, "6809", "metformin"),
    (RXNORM, "161", "acetaminophen"),
]
ALLERGENS = [
    (RXNORM, "6387", "lidocaine"),
    (RXNORM, "7980", "penicillin G"),
    (SNOMED, "256349002", "Peanut"),
]
GIVEN = ["Lan", "Minh", "Anh", "Thu", "Hoa", "John", "Maria", "Wei", "Linh", "Tuan", "Sara"]
FAMILY = ["Nguyen", "Tran", "Le", "Pham", "Hoang", "Smith", "Garcia", "Chen", "Vo", "Dang"]


def _coding(entry: tuple[str, str, str]) -> dict[str, Any]:
    """A CodeableConcept with one coding and its text."""
    system, code, display = entry
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


class ExportGenerator:
    """Generates patients and their resources from a seed."""

    def __init__(self, seed: int = 2026, on: date = date(2026, 11, 25)) -> None:
        self.rng = random.Random(seed)
        self.on = on

    def _day(self, max_days: int) -> str:
        """A past ISO date within ``max_days``."""
        return (self.on - timedelta(days=self.rng.randint(1, max_days))).isoformat()

    def patient(self, index: int) -> list[dict[str, Any]]:
        """One patient's resources: the Patient first."""
        rng = self.rng
        pid = f"p{index:07d}"
        female = rng.random() < 0.6
        ref = {"reference": f"Patient/{pid}"}
        resources: list[dict[str, Any]] = [
            {
                "resourceType": "Patient",
                "id": pid,
                "meta": {"lastUpdated": f"{self._day(900)}T10:00:00Z"},
                "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": str(index)}],
                "name": [{"family": rng.choice(FAMILY), "given": [rng.choice(GIVEN)]}],
                "gender": "female" if female else "male",
                "birthDate": self._day(25000)[:4] + "-0" + str(rng.randint(1, 9)) + "-15",
                "address": [{"city": "Hanoi", "country": "VN", "postalCode": "100000"}],
                "telecom": [{"system": "phone", "value": f"+84 90{index:07d}"}],
            }
        ]
        for n in range(rng.randint(0, 6)):
            pool = RISK_CONDITIONS if rng.random() < 0.08 else NOISE_CONDITIONS
            status = rng.choice(["active", "active", "resolved", "remission"])
            resources.append(
                {
                    "resourceType": "Condition",
                    "id": f"{pid}-c{n}",
                    "clinicalStatus": {"coding": [{"system": CLINICAL, "code": status}]},
                    "verificationStatus": {
                        "coding": [{"system": VERIFICATION, "code": "confirmed"}]
                    },
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                    "code": "problem-list-item",
                                }
                            ]
                        }
                    ],
                    "code": _coding(rng.choice(pool)),
                    "subject": ref,
                    "onsetDateTime": self._day(4000),
                    "recordedDate": self._day(900),
                }
            )
        for n in range(rng.randint(0, 3)):
            pool = RISK_MEDICATIONS if rng.random() < 0.1 else NOISE_MEDICATIONS
            resources.append(
                {
                    "resourceType": "MedicationStatement",
                    "id": f"{pid}-m{n}",
                    "status": "active",
                    "medicationCodeableConcept": _coding(rng.choice(pool)),
                    "subject": ref,
                    "effectivePeriod": {"start": self._day(2000)},
                }
            )
        if rng.random() < 0.15:
            resources.append(
                {
                    "resourceType": "AllergyIntolerance",
                    "id": f"{pid}-a0",
                    "clinicalStatus": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                "code": "active",
                            }
                        ]
                    },
                    "verificationStatus": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                "code": "confirmed",
                            }
                        ]
                    },
                    "code": _coding(rng.choice(ALLERGENS)),
                    "patient": ref,
                }
            )
        if female and rng.random() < 0.3:
            pregnant = rng.random() < 0.15
            resources.append(
                {
                    "resourceType": "Observation",
                    "id": f"{pid}-o-preg",
                    "status": "final",
                    "code": _coding((LOINC, "82810-3", "Pregnancy status")),
                    "subject": ref,
                    "effectiveDateTime": self._day(60),
                    "valueCodeableConcept": _coding(
                        (SNOMED, "77386006", "Pregnant")
                        if pregnant
                        else (SNOMED, "60001007", "Not pregnant")
                    ),
                }
            )
        for n in range(rng.randint(1, 4)):
            resources.append(
                {
                    "resourceType": "Observation",
                    "id": f"{pid}-o{n}",
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "vital-signs",
                                }
                            ]
                        }
                    ],
                    "code": _coding((LOINC, "39156-5", "Body mass index")),
                    "subject": ref,
                    "effectiveDateTime": self._day(700),
                    "valueQuantity": {
                        "value": round(rng.uniform(17, 35), 1),
                        "unit": "kg/m2",
                        "system": "http://unitsofmeasure.org",
                        "code": "kg/m2",
                    },
                }
            )
        return resources

    def patients(self, count: int) -> Iterator[list[dict[str, Any]]]:
        """``count`` patients' resource lists."""
        for index in range(count):
            yield self.patient(index)


def bundle_of(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A collection Bundle holding ``resources``."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def write_bundle_lines(path: Path, count: int, seed: int = 2026) -> int:
    """Write ``count`` patients as one Bundle per line (gzip if the name ends in .gz)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    size = 0
    with opener(path, "wb") as handle:  # type: ignore[operator]
        for resources in ExportGenerator(seed).patients(count):
            line = orjson.dumps(bundle_of(resources)) + b"\n"
            size += len(line)
            handle.write(line)
    return size


def write_bulk_folder(folder: Path, count: int, seed: int = 2026) -> None:
    """Write ``count`` patients as a Bulk Data export folder, one file per resource type."""
    folder.mkdir(parents=True, exist_ok=True)
    handles: dict[str, Any] = {}
    try:
        for resources in ExportGenerator(seed).patients(count):
            for resource in resources:
                kind = resource["resourceType"]
                if kind not in handles:
                    handles[kind] = (folder / f"{kind}.ndjson").open("wb")
                handles[kind].write(orjson.dumps(resource) + b"\n")
    finally:
        for handle in handles.values():
            handle.close()


def write_small_bundle_lines(
    path: Path, count: int, seed: int = 2026, birth_days: bool = False
) -> int:
    """Write ``count`` small Bundles, one per line, about 600 bytes each, as a registry or an
    intake system sends them: a Patient (id, gender, birth date) and its first other
    resource (if any) cut to its coded element, status, subject and date.

    The generator's birth dates fall on the 15th of nine months, so patients share them far
    more than real ones do; ``birth_days`` gives each Patient a day of its month (1-28, from
    ``seed``), as real birth dates have.
    """
    size = 0
    days = random.Random(seed)
    with path.open("wb") as handle:
        for resources in ExportGenerator(seed).patients(count):
            small = [{k: v for k, v in r.items() if k in SMALL_ELEMENTS} for r in resources[:2]]
            if birth_days:
                small[0]["birthDate"] = f"{small[0]['birthDate'][:8]}{days.randint(1, 28):02}"
            line = orjson.dumps(bundle_of(small)) + b"\n"
            size += len(line)
            handle.write(line)
    return size


#: The elements ``write_small_bundle_lines`` keeps.
SMALL_ELEMENTS = frozenset({
    "resourceType", "id", "gender", "birthDate", "code", "medicationCodeableConcept",
    "clinicalStatus", "status", "subject", "patient", "onsetDateTime", "effectiveDateTime",
    "valueCodeableConcept", "valueQuantity",
})  # fmt: skip
