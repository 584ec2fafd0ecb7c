"""The bulk screener's decisions: shared between records whose answers are the same, and
each record's line the one screening it alone gives."""

from __future__ import annotations

from datetime import date

import orjson

from mesoscreen.adapters.bulk_records import RecordScreener
from mesoscreen.adapters.fhir.record_facts import RecordReader
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService
from tests.intakes import CountedChecks

ON = date(2026, 11, 25)
KB = default_knowledge_base()


def _allergic(patient: str, allergen: str) -> bytes:
    """A Bundle line: a Patient and an allergy to ``allergen`` (named by its text)."""
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": patient, "gender": "male",
                      "birthDate": "1980-04-02"}},
        {"resource": {"resourceType": "AllergyIntolerance", "id": f"{patient}-a",
                      "patient": {"reference": f"Patient/{patient}"},
                      "code": {"text": allergen}}},
    ]})  # fmt: skip


def test_records_with_the_same_list_of_allergens_are_checked_once() -> None:
    service = ScreeningService(KB)
    counted = service.schema = CountedChecks(service.schema)  # type: ignore[assignment]
    screener = RecordScreener(service, RecordReader.default(), ON)
    fresh = RecordScreener(ScreeningService(KB), RecordReader.default(), ON)
    lines = [_allergic("p1", "lidocaine"), _allergic("p2", "lidocaine"),
             _allergic("p3", "peanuts")]  # fmt: skip
    results = [screener.screen_bundle_line("in.ndjson", n, line)
               for n, line in enumerate(lines, start=1)]  # fmt: skip
    assert counted.checked == 2  # p2 shares p1's answers; p3 is checked for itself
    for number, (line, result) in enumerate(zip(lines, results, strict=True), start=1):
        alone = RecordScreener(ScreeningService(KB), RecordReader.default(), ON)
        assert result == alone.screen_bundle_line("in.ndjson", number, line)
        assert result == fresh.screen_bundle_line("in.ndjson", number, line)
        assert b'"allergens":' in result.output
