"""The bulk decoder keeps what the reader reads, so screening by it equals screening in full."""

from __future__ import annotations

import ast
import inspect
from datetime import date
from typing import Any

import orjson
import pytest
from benchmarks.synthetic_export import ExportGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mesoscreen.adapters import bulk_export
from mesoscreen.adapters.bulk_decoder import KEPT_ELEMENTS, BulkDecoder
from mesoscreen.adapters.bulk_export import PatientLines
from mesoscreen.adapters.bulk_records import RecordResult, RecordScreener
from mesoscreen.adapters.fhir import record_concepts, record_facts
from mesoscreen.adapters.fhir.record_concepts import RAW_MEMO_MAX_BYTES, RAW_MEMO_SIZE
from mesoscreen.adapters.fhir.record_facts import RecordReader
from mesoscreen.adapters.ndjson import Line
from mesoscreen.bootstrap import record_screener

ON = date(2026, 11, 25)
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


class _Declines:
    """A decoder that takes no line, so the screener parses every line in full."""

    def bundle(self, data: bytes) -> None:
        return None

    def resource(self, data: bytes) -> None:
        return None


def _screeners() -> tuple[RecordScreener, RecordScreener]:
    fast, full = record_screener(ON), record_screener(ON)
    full.decoder = _Declines()  # type: ignore[assignment]
    full.small = None  # nor takes a small line's shared line
    return fast, full


FAST, FULL = _screeners()


def _bundle_line(resources: list[Any], number: int = 1) -> PatientLines:
    data = orjson.dumps({"resourceType": "Bundle", "type": "collection",
                         "entry": [{"resource": r} for r in resources]})  # fmt: skip
    return PatientLines("", (Line("export.ndjson", number, data),), is_bundle=True)


def _folder_lines(patient: str, lines: list[bytes]) -> PatientLines:
    numbered = tuple(Line("Condition.ndjson", n + 1, data) for n, data in enumerate(lines))
    return PatientLines(patient, numbered)


def _same(record: PatientLines) -> RecordResult:
    fast = FAST.screen(record)
    assert fast == FULL.screen(record)
    return fast


def test_the_synthetic_export_screens_the_same_decoded_in_part_or_in_full() -> None:
    """Every patient of 1,500 gives the same decision line, byte for byte, either way."""
    generator = ExportGenerator(seed=7)
    results = [_same(_bundle_line(p)) for p in generator.patients(1500)]
    assert {r.outcome for r in results} >= {"contraindicated", "deferred", "incomplete"}
    assert all(r.output and not r.bad for r in results)


def test_a_folder_record_screens_the_same_decoded_in_part_or_in_full() -> None:
    """Resource lines of a Bulk Data folder, one of them bad, give the same result."""
    resources = next(ExportGenerator(seed=3).patients(1))
    lines = [orjson.dumps(r) for r in resources] + [b'{"resourceType": "Condition", "code": 1e400}']
    result = _same(_folder_lines(resources[0]["id"], lines))
    assert [b.number for b in result.bad] == [len(lines)]


@pytest.mark.parametrize(
    "data",
    [
        b'{"resourceType":"Bundle","meta":{"source":"\xff"},"entry":[]}',  # not UTF-8, skipped
        b'{"resourceType":"Bundle","x":"\\ud800","entry":[]}',  # a lone surrogate
        b'{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Condition",'
        b'"code":{"coding":[{"system":"s","code":"c"}],"x":1e400}}}]}',  # too large, in a concept
        b'{"resourceType":"Bundle","entry":{}}',
        b'{"resourceType":"Bundle","entry":[{"fullUrl":"x"}]}',
        b'{"resourceType":"Bundle","entry":[{"resource":{"id":"p"}}]}',
        b'{"resourceType":"Bundle","entry":[{"resource":{"resourceType":7}}]}',
        b'{"resourceType":"Patient","id":"p"}',
        b'{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Condition"}}]}',
        b'[1, 2]',
        b'{"resourceType":"Bundle"',
    ],
    ids=["not-utf8", "surrogate", "out-of-range", "entry-object", "no-resource", "no-type",
         "type-not-string", "not-a-bundle", "no-patient", "array", "truncated"],
)  # fmt: skip
def test_a_line_the_decoder_cannot_take_is_reported_as_the_full_parse_reports_it(
    data: bytes,
) -> None:
    """The general path names what is wrong: same reason, same line number."""
    record = PatientLines("", (Line("export.ndjson", 9, data),), is_bundle=True)
    result = _same(record)
    assert not result.output
    assert [b.number for b in result.bad] == [9]


def test_a_number_too_large_for_a_double_is_refused_only_where_it_is_read() -> None:
    """The one difference, by choice: in an element no rule reads, a number beyond the range of
    a double (valid JSON) is skipped by the decoder, where a full parse with orjson refuses
    the whole line. In an element that is read, both refuse it."""
    patient = {"resourceType": "Patient", "id": "p", "gender": "male"}

    def line(resources: list[Any]) -> PatientLines:
        data = _bundle_line(resources).lines[0].data.replace(b'"HUGE"', b"1e400")
        return PatientLines("", (Line("export.ndjson", 1, data),), is_bundle=True)

    unread = line([{**patient, "meta": {"versionId": "HUGE"}}])
    assert FAST.screen(unread).output
    assert not FAST.screen(unread).bad
    assert FULL.screen(unread).bad[0].reason.startswith("invalid JSON: number is infinity")
    read = line([patient, {"resourceType": "Condition", "code": {"x": "HUGE"}}])
    assert _same(read).bad[0].reason.startswith("invalid JSON: number is infinity")


def test_a_raw_concept_gives_the_facts_of_the_parsed_concept_and_is_kept_once_repeated() -> None:
    """A risk code as raw JSON decides as the parsed one; from its second sighting the memo
    keeps it (and the same concept later comes from there)."""
    reader = RecordReader.default()
    decoder = BulkDecoder()
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p"},
                 "code": {"coding": [{"system": ICD10, "code": "E10.9"}]},
                 "clinicalStatus": {"coding": [{"code": "active"}]}}  # fmt: skip
    raw = decoder.resource(orjson.dumps(condition))
    assert raw is not None
    assert reader.read([raw], ON) == reader.read([condition], ON)
    assert not reader._raw  # seen once: not kept
    again = reader.read([decoder.resource(orjson.dumps(condition))], ON)
    assert again.answers == {"insulin_dependent_diabetes": "yes"}
    assert len(reader._raw) == 2  # the code and the clinical status
    kept = reader._raw[orjson.dumps(condition["code"])]
    assert reader.concept(decoder.resource(orjson.dumps(condition))["code"]) is kept


def test_the_concept_memo_is_bounded_and_keeps_no_concept_seen_once_or_too_large() -> None:
    """Past the bound the memo empties; a concept seen once, or over the size limit, is not kept."""
    reader = RecordReader.default()
    decoder = BulkDecoder()

    def read_twice(resource: dict[str, Any]) -> None:
        for _ in range(2):
            reader.read([decoder.resource(orjson.dumps(resource))], ON)

    sizes = []
    for n in range(RAW_MEMO_SIZE + 10):
        read_twice({"resourceType": "Condition", "code": {"text": f"noise {n}"}})
        sizes.append(len(reader._raw))
    assert max(sizes) == RAW_MEMO_SIZE
    assert sizes[-1] == 10
    reader._raw.clear()
    for n in range(100):
        once = {"resourceType": "Condition", "code": {"text": f"once {n}"}}
        reader.read([decoder.resource(orjson.dumps(once))], ON)
    assert not reader._raw
    read_twice({"resourceType": "Condition", "code": {"text": "x" * RAW_MEMO_MAX_BYTES}})
    assert not reader._raw


def _elements_read(module: Any) -> set[str]:
    """Names in ``resource.get("...")`` / ``resource["..."]`` of a module's code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        target, key = None, None
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get" and node.args):  # fmt: skip
            target, key = node.func.value, node.args[0]
        elif isinstance(node, ast.Subscript):
            target, key = node.value, node.slice
        if (isinstance(target, ast.Name) and target.id in {"resource", "medication"}
                and isinstance(key, ast.Constant) and isinstance(key.value, str)):  # fmt: skip
            names.add(key.value)
    return names


def test_every_element_the_reader_reads_is_kept_by_the_decoder() -> None:
    """A new element read in the reader, not added to READ_ELEMENTS, fails here."""
    read = _elements_read(record_facts) | _elements_read(bulk_export)
    read |= set(bulk_export.PATIENT_FIELDS)
    assert read >= {"code", "verificationStatus", "medicationReference", "birthDate"}
    assert read <= KEPT_ELEMENTS


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=12,
)  # fmt: skip
_coding = st.fixed_dictionaries(
    {},
    optional={"system": st.sampled_from([SNOMED, ICD10, RXNORM, "urn:x"]) | _json,
              "code": st.sampled_from(["E10.9", "46635009", "11289", "C50.9", "active",
                                       "refuted", "77386006", "x"]) | _json,
              "display": st.sampled_from(["Warfarin", "insulin", "Peanut", " "]) | _json},
)  # fmt: skip
_concept = (
    st.fixed_dictionaries(
        {}, optional={"coding": st.lists(_coding | _json, max_size=3), "text": st.text(max_size=20)}
    )
    | _json
)
_resource = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Condition", "Observation", "Medication",
                                      "MedicationStatement", "MedicationRequest",
                                      "AllergyIntolerance", "Encounter"])},
    optional={
        **{name: _concept for name in record_concepts.CONCEPT_ELEMENTS},
        **{name: _json for name in record_concepts.READ_ELEMENTS - {"resourceType"}},
        "status": st.sampled_from(["active", "final", "unknown", "entered-in-error"]) | _json,
        "id": st.sampled_from(["p", "m1", "c"]) | _json,
        "subject": st.just({"reference": "Patient/p"}) | _json,
        "medicationReference": st.just({"reference": "Medication/m1"}) | _json,
        "birthDate": st.sampled_from(["1990-04-02", "2030-01-01", "1990"]) | _json,
        "onsetDateTime": st.sampled_from(["2026-11-01", "2019", "bad"]) | _json,
        "name": _json, "meta": _json, "identifier": _json, "text": _json,
    },
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_resource, min_size=1, max_size=6))
def test_any_record_screens_the_same_decoded_in_part_or_in_full(
    resources: list[dict[str, Any]],
) -> None:
    """Whatever shape its elements have, a record gives the same output and the same bad lines,
    as one Bundle line and as the lines of a folder."""
    _same(_bundle_line(resources))
    _same(_folder_lines("p", [orjson.dumps(r) for r in resources]))
