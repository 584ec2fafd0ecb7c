"""Small Bundle lines through shared lines give exactly what reading them in full gives."""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import msgspec
import orjson
import pytest
from benchmarks.synthetic_export import SMALL_ELEMENTS, ExportGenerator, bundle_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mesoscreen.adapters import bulk_small
from mesoscreen.adapters.bulk_export import PatientLines
from mesoscreen.adapters.bulk_records import RecordResult, RecordScreener
from mesoscreen.adapters.bulk_small import SMALL_LINE_BYTES, _inert_key, _Resource
from mesoscreen.adapters.fhir.record_concepts import INERT_ELEMENTS
from mesoscreen.adapters.fhir.record_facts import PATIENT_FACTS, RecordReader
from mesoscreen.adapters.ndjson import Line
from mesoscreen.bootstrap import record_screener
from mesoscreen.domain.conditions import AllOf, Answered, FactIs, MonthsSince, Not
from mesoscreen.domain.knowledge_base import ConsistencyCheck, Text
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService

ON = date(2026, 11, 25)
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"


_MINOR = MonthsSince("birth_date", less_than=216)


def _screeners(
    *, birth_dates_read: bool = False, check: ConsistencyCheck | None = None
) -> tuple[RecordScreener, RecordScreener]:
    """A screener and one that reads every line in full, the way before shared lines; with
    ``birth_dates_read`` their rules read the birth date's value (one more rule), with
    ``check`` their knowledge base has one more consistency check."""
    if not birth_dates_read and check is None:
        small, full = record_screener(ON), record_screener(ON)  # as the bulk command builds it
    else:
        kb = default_knowledge_base()
        if birth_dates_read:
            kb = replace(kb, rules=(*kb.rules, replace(kb.rules[0], id="minor", when=_MINOR)))
        if check is not None:
            kb = replace(kb, consistency_checks=(*kb.consistency_checks, check))
        small, full = (RecordScreener(ScreeningService(kb), RecordReader.default(), ON)
                       for _ in range(2))  # fmt: skip
    full.small = None
    return small, full


SMALL, FULL = _screeners()


def _record(data: bytes, number: int = 1) -> PatientLines:
    return PatientLines("", (Line("export.ndjson", number, data),), is_bundle=True)


def _line(resources: list[Any]) -> bytes:
    return orjson.dumps(bundle_of([{"id": f"r{n}", **r} for n, r in enumerate(resources)]))


def _same(data: bytes) -> RecordResult:
    """The result through the small path, checked equal to the full reading's."""
    result = SMALL.screen(_record(data))
    assert result == FULL.screen(_record(data))
    return result


def _small_patients(count: int, seed: int) -> list[list[dict[str, Any]]]:
    """Patients as ``write_small_bundle_lines`` writes them (a Patient and one resource)."""
    return [
        [{k: v for k, v in r.items() if k in SMALL_ELEMENTS} for r in resources[:2]]
        for resources in ExportGenerator(seed).patients(count)
    ]


def test_every_small_patient_gets_the_line_read_in_full_gives() -> None:
    """2,000 small patients: byte for byte the same line and summary, most of them shared."""
    shared = 0
    outcomes = set()
    for resources in _small_patients(2000, seed=5):
        data = orjson.dumps(bundle_of(resources))
        result = _same(data)
        assert result.output
        assert not result.bad
        outcomes.add(result.outcome)
        shared += isinstance(SMALL.small.screen(data), RecordResult)  # type: ignore[union-attr]
    assert shared > 1500
    assert outcomes >= {"contraindicated", "incomplete"}


def test_the_full_export_gives_the_same_lines_through_the_small_path() -> None:
    """Larger records of the synthetic export (under 4 KiB or not) give the same lines."""
    for resources in ExportGenerator(seed=9).patients(300):
        _same(orjson.dumps(bundle_of(resources)))


def test_a_shared_line_carries_each_patient_s_own_id() -> None:
    """Two patients with the same sex and birth date get the same decision with their own
    id in every place; another sex gives its own decision line."""
    patient = {"resourceType": "Patient", "gender": "female", "birthDate": "1990-03-15"}
    first = _same(_line([{**patient, "id": "a1"}]))
    second = _same(_line([{**patient, "id": "b-22.x"}]))
    assert first.output.replace(b"a1", b"b-22.x") == second.output
    assert first.output.count(b"a1") == 3  # the patient, and the evidence of sex and birth date
    male = _same(_line([{**patient, "id": "a1", "gender": "male"}]))
    assert male.output != first.output


def test_an_id_that_json_escapes_is_escaped_as_the_full_reading_does() -> None:
    """Quotes, backslashes and non-ASCII in the id come out as orjson writes them."""
    for pid in ('q"uote', "back\\slash", "ñandú", "tab\there"):
        result = _same(_line([{"resourceType": "Patient", "id": pid, "gender": "male"}]))
        assert orjson.dumps(pid) in result.output


_CONDITION = {
    "resourceType": "Condition",
    "subject": {"reference": "Patient/p"},
    "code": {"coding": [{"system": ICD10, "code": "L64.9"}], "text": "Androgenic alopecia"},
}
_PATIENT = {"resourceType": "Patient", "id": "p", "gender": "male", "birthDate": "1980-01-01"}


@pytest.mark.parametrize(
    ("data", "taken"),
    [
        (_line([_PATIENT, {**_CONDITION, "note": [{"text": "x"}], "extension": [1]}]), "shared"),
        (_line([_PATIENT, {**_CONDITION, "code": {"coding": [{"system": ICD10,
                                                               "code": "E10.9"}]}}]), "read"),
        (_line([_PATIENT, {**_CONDITION, "note": [{"text": "x" * SMALL_LINE_BYTES}]}]), "full"),
        (_line([_PATIENT, _CONDITION])[:-2], "full"),
        (_line([_PATIENT, _CONDITION]).replace(b"alopecia", b"alop\xffcia"), "full"),
        (_line([_PATIENT, {**_CONDITION, "subject": {"reference": "Patient/q"}}]), "full"),
        (_line([_PATIENT, {**_PATIENT, "gender": "female"}]), "full"),
        (_line([{**_PATIENT, "id": "a/b"},
                {**_CONDITION, "subject": {"reference": "Patient/a/b"}}]), "full"),
        (_line([{**_PATIENT, "id": ""}]), "full"),
        (_line([_CONDITION]), "full"),
        (_line([{**_PATIENT, "gender": 7}]), "full"),
        (_line([_PATIENT, {**_CONDITION, "code": {"x": "HUGE"}}]).replace(b'"HUGE"', b"1e400"),
         "read"),
        (_line([_PATIENT, {"resourceType": "Medication", "code": {"text": "x"}}]), "read"),
        (_line([_PATIENT, {"resourceType": "MedicationStatement", "status": "active",
                           "medicationReference": {"reference": "Medication/m"}}]), "read"),
        (_line([_PATIENT, {"resourceType": "AllergyIntolerance"}]), "read"),
        (_line([{**_PATIENT, "deceasedDateTime": "2020-02-02"}]), "shared"),
        (_line([{**_PATIENT, "birthDate": "2030-01-01"}]), "full"),
        (_line([_PATIENT, {"resourceType": "Encounter", "subject": {"reference": "Patient/p"}}]),
         "shared"),
        (b'{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"p",'
         b'"gender":"male","gender":"female"}}]}', "shared"),
    ],
    ids=["unknown-elements", "risk-code", "over-4-KiB", "broken-json", "not-utf8",
         "two-patients", "two-patient-resources", "id-with-slash", "empty-id", "no-patient",
         "gender-not-text", "number-out-of-range", "medication-resource",
         "medication-by-reference", "allergy", "deceased", "born-after-the-screening-day",
         "encounter", "duplicate-key"],
)  # fmt: skip
def test_a_line_is_shared_read_or_left_to_the_general_path_and_gives_the_same_result(
    data: bytes, taken: str
) -> None:
    """Each line gives the full reading's result; it takes the path expected of it."""
    _same(data)
    assert SMALL.small is not None
    found = SMALL.small.screen(data)
    way = "shared" if isinstance(found, RecordResult) else "read" if found else "full"
    assert way == taken


@pytest.mark.parametrize("birth_dates_read", [True, False], ids=["keys-per-date", "shared"])
def test_a_template_is_made_once_per_patient_key_and_the_memos_stay_bounded(
    monkeypatch: pytest.MonkeyPatch, birth_dates_read: bool
) -> None:
    """Past MEMO_SIZE keys the templates and the keys seen once are emptied, and the birth
    dates told stay within BIRTH_DATES_KEPT (where the rules read birth dates, each is a key
    of its own; where they do not, birth dates told leave the memo while their shared
    template stays); lines stay right throughout."""
    monkeypatch.setattr(bulk_small, "MEMO_SIZE", 8)
    monkeypatch.setattr(bulk_small, "BIRTH_DATES_KEPT", 8)
    small, full = _screeners(birth_dates_read=birth_dates_read)
    assert small.small is not None
    for year in range(1950, 1980):
        for visit in ("a", "b", "c"):  # the second makes the template, all later use it
            patient = {"resourceType": "Patient", "id": f"p{year}{visit}",
                       "birthDate": f"{year}-01-02"}  # fmt: skip
            data = _line([patient])
            assert small.screen(_record(data)) == full.screen(_record(data))
            assert len(small.small._templates) <= 8
            assert len(small.small._seen) <= 8
            assert small.small.any_birth_date.cache_info().currsize <= 8
    assert small.small._templates


def test_each_birth_date_is_told_once_past_the_size_of_the_other_memos(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The birth dates told are kept for a long run's variety of birth dates (the days of 120
    years), more than the other memos keep: each is told once however many come between."""
    monkeypatch.setattr(bulk_small, "MEMO_SIZE", 8)
    small, full = _screeners()
    assert small.small is not None
    small.small.any_birth_date.cache_clear()
    days = [f"{1950 + n}-03-04" for n in range(20)]
    for visit in ("a", "b"):
        for n, born in enumerate(days):
            data = _line([{"resourceType": "Patient", "id": f"p{n}{visit}", "birthDate": born}])
            assert small.screen(_record(data)) == full.screen(_record(data))
    info = small.small.any_birth_date.cache_info()
    assert (info.misses, info.hits) == (20, 20)


def test_a_birth_date_that_is_not_a_days_ten_ascii_characters_is_told_but_not_kept() -> None:
    """A Patient's birthDate longer or shorter than a day's ten characters, or of ten that
    are not all ASCII (which take up to 151 bytes each), gives the full reading's line, and
    its answer takes no place in the memo, however long the text."""
    small, full = _screeners()
    assert small.small is not None
    small.small.any_birth_date.cache_clear()
    borns = ("1971-04-09T10:00:00Z", "1971-04-09 ", "1971-04-09" + "x" * 2000, "1971",
             "\uff11\uff19\uff17\uff11-04-09", "1971-04-0\U0001d7e1", "1971-04-09")  # fmt: skip
    for n, born in enumerate(borns):
        for visit in ("a", "b", "c"):  # seen once, then through the template
            data = _line([{"resourceType": "Patient", "id": f"p{n}{visit}", "birthDate": born}])
            assert small.screen(_record(data)) == full.screen(_record(data))
    assert small.small.any_birth_date.cache_info().currsize == 1


def test_elements_seen_once_give_their_own_line_and_a_template_when_they_come_back() -> None:
    """Where the rules read the birth date, the first patient with a Patient's elements is
    screened alone, no template made (a birth date to the day rarely comes back); the
    second makes the template it and the third use, and the key is no longer kept as seen
    once. Each line is the full reading's."""
    small, full = _screeners(birth_dates_read=True)
    assert small.small is not None
    patient = {"resourceType": "Patient", "gender": "female", "birthDate": "1971-04-09"}
    templates = []
    for n in range(3):
        data = _line([{**patient, "id": f"p{n}"}])
        assert small.screen(_record(data)) == full.screen(_record(data))
        templates.append(dict(small.small._templates))
    assert templates[0] == {}
    assert len(templates[1]) == 1
    assert templates[2] == templates[1]
    assert not small.small._seen
    for day in range(1, 29):  # other birth dates, each once: screened alone
        data = _line([{**patient, "id": f"d{day}", "birthDate": f"1971-05-{day:02}"}])
        assert small.screen(_record(data)) == full.screen(_record(data))
    assert small.small._templates == templates[1]
    assert len(small.small._seen) == 28


def test_birth_dates_to_the_day_share_one_template_where_no_rule_reads_them() -> None:
    """The shipped rules read no birth date from a Patient alone: patients alike but for
    their birth dates, each seen once, share one template from the second on. Each line is
    the full reading's."""
    small, full = _screeners()
    assert small.small is not None
    for n in range(60):
        born = date(1940, 1, 1) + timedelta(days=397 * n)
        data = _line([{"resourceType": "Patient", "id": f"p{n}", "gender": "male",
                       "birthDate": born.isoformat()}])  # fmt: skip
        assert small.screen(_record(data)) == full.screen(_record(data))
    assert len(small.small._templates) == 1
    assert not small.small._seen


def test_a_birth_date_a_rule_reads_is_shared_only_with_the_same_birth_date() -> None:
    """Where a rule reads the birth date, birth dates on either side of its bound give other
    decisions: none stands for another, and each line is the full reading's."""
    small, full = _screeners(birth_dates_read=True)
    assert small.small is not None
    lines: dict[str, set[bytes]] = {}
    for n, born in enumerate(["1980-06-15", "2012-06-15", "1980-06-16", "2012-06-16"] * 3):
        data = _line([{"resourceType": "Patient", "id": f"p{n}", "birthDate": born}])
        result = small.screen(_record(data))
        assert result == full.screen(_record(data))
        lines.setdefault(born, set()).add(result.output.replace(f"p{n}".encode(), b""))
        assert not small.small.any_birth_date(born)
    assert all(len(found) == 1 for found in lines.values())
    assert lines["1980-06-15"] == lines["1980-06-16"] != lines["2012-06-15"]
    assert len(small.small._templates) == 4


@pytest.mark.parametrize(
    "check",
    [
        ConsistencyCheck("male_minor", AllOf((FactIs("sex", "male"), _MINOR)),
                         ("sex", "birth_date"), Text(en="x", vi="x")),
        ConsistencyCheck("minor_not_asked", AllOf((_MINOR, Not(Answered("pregnant")))),
                         ("birth_date", "pregnant"), Text(en="x", vi="x")),
    ],
    ids=["sex-and-birth-date", "not-answered-part"],
)  # fmt: skip
def test_a_consistency_check_on_what_a_patient_shows_keeps_each_birth_date_its_key(
    check: ConsistencyCheck,
) -> None:
    """A consistency check that can hold on a Patient's sex and birth date alone reads the
    birth date's value: no birth date stands for another, and each line holds the decision
    the screening service gives those answers."""
    small, full = _screeners(check=check)
    assert small.small is not None
    for n, born in enumerate(["1980-06-15", "2015-06-15", "1981-06-15", "2015-06-16"] * 3):
        data = _line([{"resourceType": "Patient", "id": f"p{n}", "gender": "male",
                       "birthDate": born}])  # fmt: skip
        result = small.screen(_record(data))
        assert result == full.screen(_record(data))
        decision = small.service.screen({"sex": "male", "birth_date": born}, ON)
        rules = [finding["rule"] for finding in orjson.loads(result.output)["findings"]]
        assert rules == [finding.rule for finding in decision.findings]
        assert not small.small.any_birth_date(born)


@pytest.mark.parametrize(
    ("born", "stands_for_any"),
    [("1980-06-15", True), (ON.isoformat(), True), ("1900-01-01", True),
     ((ON + timedelta(days=1)).isoformat(), False), ("1980-02-30", False), ("1980", False),
     ("1980-06", False), ("1980-06-15T10:00:00Z", False), ("15/06/1980", False),
     ("+1980-06-1", False), ("1980-W24-1", False)],
)  # fmt: skip
def test_a_birth_date_stands_for_any_other_only_if_read_and_taken_as_a_day(
    born: str, stands_for_any: bool
) -> None:
    """Only a birth date the reader shows and the intake takes on the screening date stands
    for any other; a later day, an impossible one, a part of one or a week date (which the
    intake would take but the reader does not show) is a key of its own. Lines are the full
    reading's either way, seen once, twice and three times."""
    assert SMALL.small is not None
    assert SMALL.small.any_birth_date(born) is stands_for_any
    for n in range(3):
        _same(_line([{"resourceType": "Patient", "id": f"b{n}", "birthDate": born}]))


@settings(max_examples=300, deadline=None)
@given(st.builds(dict, resourceType=st.just("Patient"), id=st.just("p"),
                 gender=st.sampled_from(["male", "female", "other", "x"]),
                 birthDate=st.dates().map(date.isoformat) | st.text(max_size=12)))  # fmt: skip
def test_a_patient_shows_no_fact_but_the_patient_facts(patient: dict[str, Any]) -> None:
    """``PATIENT_FACTS`` holds every fact reading a Patient can show (the small path asks
    the rules whether they read a birth date's value among those facts)."""
    assert set(_READER.read([patient], ON).answers) <= PATIENT_FACTS


_codes = st.sampled_from([
    {"coding": [{"system": ICD10, "code": "E10.9", "display": "Type 1 diabetes"}]},
    {"coding": [{"system": SNOMED, "code": "254837009"}], "text": "Breast cancer"},
    {"coding": [{"system": SNOMED, "code": "38341003"}]},
    {"coding": [{"system": ICD10, "code": "L64.9"}], "text": "Androgenic alopecia"},
    {"coding": [{"system": RXNORM, "code": "11289", "display": "warfarin"}]},
    {"coding": [{"system": RXNORM, "code": "29046"}], "text": "lisinopril"},
    {"coding": [{"system": LOINC, "code": "82810-3"}]},
    {"text": "suspected bleeding disorder"}, {"text": "history of warfarin use"},
    {"coding": "not a list"}, None,
])  # fmt: skip
_statuses = st.sampled_from([
    {"coding": [{"code": c}]} for c in ("active", "resolved", "remission", "refuted",
                                          "entered-in-error", "provisional", "confirmed")
])  # fmt: skip
_days = st.sampled_from(["2026-11-01", "2019-05-04", "2026", "2026-13-01", "bad", "2027-01-01"])
_resources = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Condition", "Observation", "MedicationStatement",
                                      "MedicationRequest", "AllergyIntolerance", "Encounter",
                                      "Medication", "Procedure"])},
    optional={
        "code": _codes, "medicationCodeableConcept": _codes, "clinicalStatus": _statuses,
        "verificationStatus": _statuses,
        "valueCodeableConcept": st.sampled_from([
            {"coding": [{"system": SNOMED, "code": "77386006"}]},
            {"coding": [{"system": SNOMED, "code": "60001007"}]}]),
        "valueBoolean": st.booleans() | st.just("true"),
        "status": st.sampled_from(["active", "final", "stopped", "unknown", "entered-in-error"]),
        "subject": st.sampled_from([{"reference": "Patient/p"}, {"reference": "Patient/q"},
                                    {"reference": "urn:uuid:1"}, {"display": "x"}, "p"]),
        "patient": st.just({"reference": "https://x.org/fhir/Patient/p/_history/2"}),
        "medicationReference": st.sampled_from([{"reference": "Medication/r1"}, None, "x"]),
        "onsetDateTime": _days, "effectiveDateTime": _days, "recordedDate": _days,
        "abatementDateTime": _days, "onsetAge": st.just({"value": 40, "code": "a"}),
        "id": st.sampled_from(["r1", "x", 5]), "meta": st.just({"versionId": "1"}),
    },
)  # fmt: skip
_patients = st.fixed_dictionaries(
    {"resourceType": st.just("Patient"), "id": st.sampled_from(["p", "p", "q", "", "p/1"])},
    optional={
        "gender": st.sampled_from(["male", "female", "other", "unknown", 1]),
        "birthDate": st.sampled_from(["1980-06-15", "2010-01-01", "1980", "2030-01-01", "x",
                                      "1980-02-30", ON.isoformat()])
        | st.dates(date(1900, 1, 1), ON + timedelta(days=30)).map(date.isoformat),
        "deceasedBoolean": st.booleans(),
        "deceasedDateTime": st.sampled_from(["2020-01-01", "2030-01-01", "x"]),
        "name": st.just([{"family": "Nguyen"}]),
    },
)  # fmt: skip


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_resources, max_size=4), _patients, st.integers(0, 4))
def test_any_small_record_gets_the_line_read_in_full_gives(
    others: list[dict[str, Any]], patient: dict[str, Any], at: int
) -> None:
    """Whatever its resources, statuses, dates and patients, a line gives the same result
    through the shared lines as read in full."""
    resources = [*others[:at], patient, *others[at:]]
    data = orjson.dumps(bundle_of([{"id": f"e{n}", **r} for n, r in enumerate(resources)]))
    _same(data)


_READER = RecordReader.default()


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_resources, _patients)
def test_an_inert_resource_adds_nothing_to_a_record(
    resource: dict[str, Any], patient: dict[str, Any]
) -> None:
    """Beside any Patient, a resource the reader calls inert changes no fact, evidence,
    date or hint."""
    if _READER.inert(resource):
        assert _READER.read([patient, resource], ON) == _READER.read([patient], ON)


def test_the_inert_key_holds_every_element_inert_reads() -> None:
    """Two resources differing in any one of INERT_ELEMENTS get different memo keys."""
    values: dict[str, tuple[object, object]] = {
        "status": ("active", "stopped"), "valueBoolean": (True, False),
    }  # fmt: skip
    base = {"resourceType": "Observation"}
    for name in INERT_ELEMENTS:
        one, other = values.get(name, ({"text": "a"}, {"text": "b"}))
        keys = {
            _inert_key(msgspec.json.decode(orjson.dumps({**base, name: v}), type=_Resource))
            for v in (one, other)
        }
        absent = _inert_key(msgspec.json.decode(orjson.dumps(base), type=_Resource))
        assert len(keys | {absent}) == 3, name


def test_the_inert_key_tells_which_element_holds_a_concept() -> None:
    """The same concept in any one or any two of the elements gets a different key: each
    element keeps its place in the key."""
    concepts = [n for n in INERT_ELEMENTS if n not in ("status", "valueBoolean")]
    placed = [{name: {"text": "a"}} for name in concepts]
    placed += [{one: {"text": "a"}, two: {"text": "a"}}
               for i, one in enumerate(concepts) for two in concepts[i + 1:]]  # fmt: skip
    resources = [orjson.dumps({"resourceType": "Condition", **elements}) for elements in placed]
    keys = {_inert_key(msgspec.json.decode(data, type=_Resource)) for data in resources}
    assert len(keys) == len(placed)


@pytest.mark.parametrize("byte", [b"\x00", b"\x01", b"\x1f"])
def test_a_raw_control_character_in_a_concept_is_refused(byte: bytes) -> None:
    """The inert key joins the raw concepts with a NUL byte: no concept the decoder takes
    holds one raw, also in an element it keeps only as raw JSON, so the line goes to the
    general path (which names it)."""
    data = _line([_PATIENT, {**_CONDITION, "code": {"text": "a@b"}}]).replace(b"@", byte)
    with pytest.raises(msgspec.DecodeError):
        msgspec.json.decode(data, type=bulk_small._Bundle)
    assert SMALL.small is not None
    assert SMALL.small.screen(data) is None


def test_the_template_key_holds_every_patient_element_the_reader_reads() -> None:
    """A shared line stands for every Patient with the same template key: if the reader came
    to read another element of a Patient, the key must hold it too (else two patients who
    differ in it would share a line)."""
    source = textwrap.dedent(inspect.getsource(RecordReader._patient))
    read = {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get" and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "resource" and node.args
        and isinstance(node.args[0], ast.Constant)
    }  # fmt: skip
    assert {"gender", "birthDate", "deceasedDateTime", "deceasedBoolean"} <= read
    assert read - {"id"} == set(bulk_small._PATIENT_ELEMENTS)
