"""Prefetch as CDS Hooks 2.0 defines it: a missing key is fetched, a null key means no data,
an OperationOutcome is an error to work around, pages are followed on the record system's own
FHIR server, and 412 when the data cannot be had."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from mesoscreen.services.cds_definitions import PREFETCH
from tests.integration.cds_hooks.conformance import assert_conforms
from tests.integration.cds_hooks.conftest import FHIR_SERVER, FhirServerDouble, Keys
from tests.integration.cds_hooks.hook_requests import (
    ICD10,
    RECORD,
    SIGN,
    call,
    hook_request,
    prefetch_of,
    refusal,
)

CANCER = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/1288992"},
          "code": {"coding": [{"system": ICD10, "code": "C50.911"}]}}  # fmt: skip
FAILED = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "timeout", "diagnostics": "timed out"}],
}


def _searchset(*resources: dict[str, Any], next_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                              "entry": [{"resource": r} for r in resources]}  # fmt: skip
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def _indicator(response: Any) -> str:
    assert response.status_code == 200, response.text
    assert_conforms(response.json())
    (card,) = response.json()["cards"]
    return str(card["indicator"])


@pytest.mark.parametrize("key", list(PREFETCH))
def test_each_missing_prefetch_key_without_a_fhir_server_is_412(
    make_client: Callable[..., Any], keys: Keys, key: str
) -> None:
    """Drop one key, give no fhirServer: 412 naming the key, with an OperationOutcome."""
    prefetch = prefetch_of(RECORD)
    del prefetch[key]
    body = hook_request(prefetch=prefetch)
    del body["fhirServer"], body["fhirAuthorization"]
    response = call(make_client(), keys, SIGN, body)
    assert response.status_code == 412
    assert f"prefetch {key!r} is missing" in refusal(response)
    assert response.json()["issue"][0]["code"] == "incomplete"


@pytest.mark.parametrize("key", list(PREFETCH))
def test_each_missing_prefetch_key_is_fetched_alone_with_the_given_token(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble, key: str
) -> None:
    """The one missing query goes to the FHIR server, with the fhirAuthorization token."""
    fhir_server.resources = copy.deepcopy(RECORD)
    prefetch = prefetch_of(RECORD)
    del prefetch[key]
    assert _indicator(call(make_client(), keys, SIGN, hook_request(prefetch=prefetch))) == (
        "critical"
    )
    (fetched,) = fhir_server.requests
    expected = PREFETCH[key].replace("{{context.patientId}}", "1288992")
    assert fetched.url.path.removeprefix("/r4/") == expected.split("?")[0]
    assert fetched.headers["Authorization"] == "Bearer some-opaque-fhir-access-token"


def test_a_null_prefetch_key_means_no_data_and_nothing_is_fetched(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble
) -> None:
    """null is the record system saying it has nothing: no fetch, no 412, still never eligible."""
    prefetch: dict[str, Any] = dict.fromkeys(PREFETCH)
    prefetch["patient"] = RECORD[0]
    body = hook_request(prefetch=prefetch)
    del body["fhirServer"]
    assert _indicator(call(make_client(), keys, SIGN, body)) == "info"
    assert fhir_server.requests == []


def test_an_operation_outcome_in_prefetch_is_fetched_again(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble
) -> None:
    """A prefetch error is not an empty record: the conditions are fetched and the cancer found;
    with no server to ask, 412."""
    fhir_server.resources = [CANCER]
    for failed in (FAILED, _searchset(FAILED)):
        prefetch = {**prefetch_of([RECORD[0]]), "conditions": failed}
        response = call(make_client(), keys, SIGN, hook_request(prefetch=prefetch))
        assert _indicator(response) == "critical"
        body = hook_request(prefetch=prefetch)
        del body["fhirServer"]
        response = call(make_client(), keys, SIGN, body)
        assert response.status_code == 412
        assert "prefetch 'conditions' reports an error" in refusal(response)


def test_a_paginated_prefetch_is_read_to_its_last_page_on_the_fhir_server(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble
) -> None:
    """The cancer is on page two: it is fetched from the next link and counts."""
    page_two = f"{FHIR_SERVER}/Condition?patient=1288992&_page=2"
    fhir_server.pages[page_two] = _searchset(CANCER)
    prefetch = {**prefetch_of([RECORD[0]]), "conditions": _searchset(next_url=page_two)}
    assert _indicator(call(make_client(), keys, SIGN, hook_request(prefetch=prefetch))) == (
        "critical"
    )
    assert [str(r.url) for r in fhir_server.requests] == [page_two]


def test_a_page_link_that_leaves_the_fhir_server_is_412_and_never_fetched(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble
) -> None:
    """A next link elsewhere would send the record system's token to a stranger."""
    elsewhere = "https://collector.example/Condition?page=2"
    prefetch = {**prefetch_of([RECORD[0]]), "conditions": _searchset(next_url=elsewhere)}
    response = call(make_client(), keys, SIGN, hook_request(prefetch=prefetch))
    assert response.status_code == 412
    assert "leaves fhirServer" in refusal(response)
    assert fhir_server.requests == []


def test_another_patients_resources_do_not_decide_this_patients_screening(
    make_client: Callable[..., Any], keys: Keys
) -> None:
    """A cancer recorded for Patient/2 in this patient's prefetch is dropped."""
    theirs = {**CANCER, "id": "c2", "subject": {"reference": "Patient/2"}}
    prefetch = {**prefetch_of([RECORD[0]]), "conditions": _searchset(theirs)}
    assert _indicator(call(make_client(), keys, SIGN, hook_request(prefetch=prefetch))) == "info"
    mine = {**CANCER, "subject": {"reference": f"{FHIR_SERVER}/Patient/1288992"}}
    prefetch["conditions"] = _searchset(mine)
    assert _indicator(call(make_client(), keys, SIGN, hook_request(prefetch=prefetch))) == (
        "critical"
    )


def test_a_plain_http_fhir_server_is_used_in_development_mode_only(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble
) -> None:
    """CDS Hooks requires https for real data: 412 and no request unless in development mode."""
    fhir_server.resources = copy.deepcopy(RECORD)
    body = hook_request()
    body["fhirServer"] = FHIR_SERVER.replace("https://", "http://")
    response = call(make_client(), keys, SIGN, body)
    assert response.status_code == 412
    assert "not an https URL" in refusal(response)
    assert fhir_server.requests == []
    development = make_client(cds_development_mode=True)
    assert _indicator(development.post(SIGN, json=body)) == "critical"
    assert fhir_server.requests


@pytest.mark.parametrize("patient_id", ["../Patient/2", "1288992?_id=2", "..", "x" * 65])
def test_a_patient_id_that_is_not_a_fhir_id_is_400_and_nothing_is_fetched(
    make_client: Callable[..., Any], keys: Keys, fhir_server: FhirServerDouble, patient_id: str
) -> None:
    """The id goes into FHIR URLs, so it must be an id and nothing more."""
    body = hook_request()
    body["context"]["patientId"] = patient_id
    response = call(make_client(), keys, SIGN, body)
    assert response.status_code == 400
    assert "'context.patientId'" in refusal(response)
    assert fhir_server.requests == []
