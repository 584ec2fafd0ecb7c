"""The code systems Mesoscreen defines for its own codes, by their canonical URLs."""

from __future__ import annotations

# What must be done before treatment (an allergy test, a specialist's clearance...).
ACTION_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/required-action"
