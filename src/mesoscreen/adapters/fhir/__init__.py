"""FHIR R4 in and out: records to intake facts, the questionnaire, decisions as resources."""
