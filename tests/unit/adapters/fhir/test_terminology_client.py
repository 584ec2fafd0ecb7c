"""The optional terminology server: real Parameters answers, a persistent cache, a short
timeout, and the shipped expansions whenever it cannot tell."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest

from mesoscreen.adapters.fhir.record_facts import RecordReader
from mesoscreen.adapters.fhir.terminology_client import FhirTerminologyClient
from mesoscreen.bootstrap import terminology_service
from mesoscreen.config import Settings

SNOMED = "http://snomed.info/sct"
BASE = "https://tx.example.org/r4"
# A concept absent from the shipped expansions, and its parent in this server's hierarchy.
UNSHIPPED = "999000123"
PARENTS = {UNSHIPPED: "109355002", "109355002": "363346000"}
VALUE_SET = "http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.526.3.1010"


def _ancestors(code: str) -> set[str]:
    found = {code}
    while code in PARENTS:
        code = PARENTS[code]
        found.add(code)
    return found


class TerminologyServer:
    """An in-process FHIR terminology server answering as the R4 operations define."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        if request.url.path.endswith("/CodeSystem/$subsumes"):
            if params.get("system") != SNOMED:
                return httpx.Response(400, json={"resourceType": "OperationOutcome", "issue": [
                    {"severity": "error", "code": "not-supported"}]})  # fmt: skip
            a, b = params["codeA"], params["codeB"]
            outcome = ("equivalent" if a == b else "subsumes" if a in _ancestors(b)
                       else "subsumed-by" if b in _ancestors(a) else "not-subsumed")  # fmt: skip
            return httpx.Response(200, json={"resourceType": "Parameters", "parameter": [
                {"name": "outcome", "valueCode": outcome}]})  # fmt: skip
        if request.url.path.endswith("/ValueSet/$validate-code"):
            result = params.get("url") == VALUE_SET and "363346000" in _ancestors(params["code"])
            return httpx.Response(200, json={"resourceType": "Parameters", "parameter": [
                {"name": "result", "valueBoolean": result},
                {"name": "display", "valueString": "Example"}]})  # fmt: skip
        return httpx.Response(404)


def _client(server: object, cache: Path | None) -> FhirTerminologyClient:
    return FhirTerminologyClient(BASE, cache, httpx.MockTransport(server))  # type: ignore[arg-type]


def test_subsumes_and_validate_code_read_the_real_parameters_shapes(tmp_path: Path) -> None:
    """outcome subsumes/equivalent is True, not-subsumed False; $validate-code's result."""
    client = _client(TerminologyServer(), tmp_path / "cache.sqlite3")
    try:
        assert client.subsumes(SNOMED, "363346000", UNSHIPPED) is True
        assert client.subsumes(SNOMED, "84114007", UNSHIPPED) is False
        assert client.validate_code(VALUE_SET, SNOMED, UNSHIPPED) is True
        assert client.validate_code(VALUE_SET, SNOMED, "84114007") is False
        assert client.subsumes("http://loinc.org", "1", "2") is None  # refused: cannot tell
    finally:
        client.close()


def test_answers_are_kept_across_processes_in_the_cache_file(tmp_path: Path) -> None:
    """A second client on the same cache answers without asking the server."""
    cache = tmp_path / "cache.sqlite3"
    first = _client(TerminologyServer(), cache)
    assert first.subsumes(SNOMED, "109355002", UNSHIPPED) is True
    first.close()
    server = TerminologyServer()
    second = _client(server, cache)
    try:
        assert second.subsumes(SNOMED, "109355002", UNSHIPPED) is True
        assert server.requests == []
    finally:
        second.close()


def test_a_server_that_times_out_answers_none_and_is_left_alone(tmp_path: Path) -> None:
    """A timeout gives None (fall back to the shipped expansions) and no retry at once."""
    calls: list[httpx.Request] = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("too slow", request=request)

    client = _client(slow, tmp_path / "cache.sqlite3")
    try:
        assert client.subsumes(SNOMED, "363346000", UNSHIPPED) is None
        assert client.subsumes(SNOMED, "363346000", "999000456") is None
        assert len(calls) == 1
    finally:
        client.close()


def _record() -> list[dict[str, object]]:
    return [{"resourceType": "Condition", "id": "c1",
             "code": {"coding": [{"system": SNOMED, "code": UNSHIPPED}]}}]  # fmt: skip


def test_the_reader_asks_the_server_about_a_concept_the_expansions_lack(tmp_path: Path) -> None:
    """A descendant of carcinoma in situ unknown to the shipped sets is a history of cancer."""
    assert (
        "cancer_history" not in RecordReader.default().read(_record(), date(2026, 11, 25)).answers
    )
    client = _client(TerminologyServer(), tmp_path / "cache.sqlite3")
    try:
        facts = RecordReader.default(client).read(_record(), date(2026, 11, 25))
    finally:
        client.close()
    assert facts.answers.get("cancer_history") == "yes"
    assert "cardiovascular_disease" not in facts.answers


def test_the_server_is_off_unless_one_setting_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No MESOSCREEN_TERMINOLOGY_SERVER: no client; with it: a client caching in data_dir."""
    monkeypatch.delenv("MESOSCREEN_TERMINOLOGY_SERVER", raising=False)
    assert terminology_service(Settings()) is None
    client = terminology_service(Settings(terminology_server=BASE, data_dir=tmp_path))
    assert client is not None
    try:
        assert client.base_url == BASE
        assert (tmp_path / "terminology-cache.sqlite3").exists()
    finally:
        client.close()
