"""Example requests of the CDS Hooks 2.0 specification, for the tests to be called with.

Abridged from the specification (https://cds-hooks.hl7.org/2.0/): the envelope of "Calling a
CDS Service", the R4 contexts of the order-sign and order-select hooks, the context of the
appointment-book hook (whose example sends a plain list of Appointments), the two feedback
examples, and the example client JWT with the public key published to verify it. Identifiers,
codes, references and structure are the specification's; narrative elements the service
does not read (diet texture, dosage, participants) are left out.
"""

from __future__ import annotations

from typing import Any

CALL_ENVELOPE: dict[str, Any] = {
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "fhirServer": "http://hooks.smarthealthit.org:9080",
    "fhirAuthorization": {
        "access_token": "some-opaque-fhir-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/Patient.read user/Observation.read",
        "subject": "cds-service4",
    },
}

_NUTRITION_ORDER = {
    "resourceType": "NutritionOrder",
    "id": "pureeddiet-simple",
    "identifier": [{"system": "http://goodhealthhospital.org/nutrition-requests",
                    "value": "123"}],
    "status": "draft",
    "patient": {"reference": "Patient/1288992"},
    "dateTime": "2014-09-17",
    "orderer": {"reference": "Practitioner/example", "display": "Dr Adam Careful"},
    "oralDiet": {"type": [{"coding": [
        {"system": "http://snomed.info/sct", "code": "226211001", "display": "Pureed diet"},
        {"system": "http://goodhealthhospital.org/diet-type-codes", "code": "1010",
         "display": "Pureed diet"}], "text": "Pureed diet"}]},
}  # fmt: skip

_MEDICATION_REQUEST = {
    "resourceType": "MedicationRequest",
    "id": "smart-MedicationRequest-103",
    "status": "draft",
    "intent": "order",
    "medicationCodeableConcept": {"coding": [{
        "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "617993",
        "display": "Amoxicillin 120 MG/ML / clavulanate potassium 8.58 MG/ML Oral Suspension"}]},
    "subject": {"reference": "Patient/1288992"},
    "dosageInstruction": [{"text": "5 mL bid x 10 days"}],
}  # fmt: skip

ORDER_SIGN_CONTEXT: dict[str, Any] = {
    "userId": "PractitionerRole/123",
    "patientId": "1288992",
    "encounterId": "89284",
    "draftOrders": {
        "resourceType": "Bundle",
        "entry": [{"resource": _NUTRITION_ORDER}, {"resource": _MEDICATION_REQUEST}],
    },
}

ORDER_SELECT_CONTEXT: dict[str, Any] = {
    **ORDER_SIGN_CONTEXT,
    "selections": ["NutritionOrder/pureeddiet-simple",
                   "MedicationRequest/smart-MedicationRequest-103"],
}  # fmt: skip

APPOINTMENT_BOOK_CONTEXT: dict[str, Any] = {
    "userId": "PractitionerRole/A2340113",
    "patientId": "1288992",
    "encounterId": "456",
    "appointments": [
        {
            "resourceType": "Appointment",
            "id": "apt1",
            "status": "proposed",
            "serviceType": [{"coding": [{"code": "183", "display": "Sleep Medicine"}]}],
            "appointmentType": {"coding": [{"system": "http://hl7.org/fhir/v2/0276",
                                            "code": "FOLLOWUP"}]},
            "description": "CPAP adjustments",
            "start": "2019-08-10T09:00:00-06:00",
        },
        {
            "resourceType": "Appointment",
            "id": "apt1",
            "status": "proposed",
            "appointmentType": {"coding": [{"system": "http://hl7.org/fhir/v2/0276",
                                            "code": "CHECKUP"}]},
            "description": "Regular physical",
            "start": "2020-08-01T13:00:00-06:00",
        },
    ],
}  # fmt: skip

FEEDBACK_ACCEPTED: dict[str, Any] = {
    "feedback": [
        {
            "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}

FEEDBACK_OVERRIDDEN: dict[str, Any] = {
    "feedback": [
        {
            "card": "f6b95768-b1c8-40dc-8385-bf3504b82ffb",
            "outcome": "overridden",
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}

# The specification's example token, signed with its example ES384 key.
JWT_ISSUER = "https://fhir-ehr.example.com/"
JWT_JKU = "https://fhir-ehr.example.com/jwk_uri"
JWT_AUDIENCE = "https://cds.example.org/cds-services/some-service"
JWT_EXPIRES = 1422568860
JWT = (
    "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImV4YW1wbGUta2lkIiwiamt1IjoiaHR0cHM6Ly9maGly"
    "LWVoci5leGFtcGxlLmNvbS9qd2tfdXJpIn0.eyJpc3MiOiJodHRwczovL2ZoaXItZWhyLmV4YW1wbGUuY29tLyIs"
    "ImF1ZCI6Imh0dHBzOi8vY2RzLmV4YW1wbGUub3JnL2Nkcy1zZXJ2aWNlcy9zb21lLXNlcnZpY2UiLCJleHAiOjE0"
    "MjI1Njg4NjAsImlhdCI6MTMxMTI4MDk3MCwianRpIjoiZWUyMmIwMjEtZTFiNy00NjExLWJhNWItOGVlYzZhMzNh"
    "YzFlIiwidGVuYW50IjoiMmRkZDZjM2EtOGU5YS00NGM2LWEzMDUtNTIxMTFhZDMwMmEyIn0.d1WfLjGRKlcWB94l9"
    "do4cM8REXeYJLL6SGUBO8VHZhfM8mwKYP70EMxJ67War4TQblEpaQrp11wx5p7oPFm2ETYgCicS84vXWEIYTdjoo"
    "ZdooCSDf2L8-i4awdoUwiEb"
)
JWKS: dict[str, Any] = {
    "keys": [
        {
            "kty": "EC",
            "use": "sig",
            "crv": "P-384",
            "kid": "example-kid",
            "x": "46SDH7Znh821wblCBglA61sNE9ZrHYKKt3qRtRTmSXyOI_FIGBLWrWa0GPUkDCEk",
            "y": "XMcRuuoGW7CXjQdy-F5i3FeBE0x9hPLdeFdSoDd3ELmx404tLX0VRRcqzAsPhXcI",
            "alg": "ES384",
        }
    ]
}
