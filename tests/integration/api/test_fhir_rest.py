"""/fhir as a FHIR R4 REST base: capabilities, searchsets with links, search parameters
honoured or refused, JSON only, and an OperationOutcome for every error (there and on
/cds-services)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class

from mesoscreen.domain.access import Role
from tests.factories import TwoClinics
from tests.fakes import FrozenClock
from tests.integration.api.conftest import bearer
from tests.integration.api.records import consented, new_patient, ok

FHIR_JSON = "application/fhir+json"


@pytest.fixture
def admin(client: TestClient, clinics: TwoClinics) -> dict[str, str]:
    """Headers of clinic A's admin."""
    return bearer(client, clinics.a.users[Role.ADMIN])


@pytest.fixture
def clinician(client: TestClient, clinics: TwoClinics) -> dict[str, str]:
    """Headers of clinic A's clinician."""
    return bearer(client, clinics.a.users[Role.CLINICIAN])


def fhir(response: Any, status: int = 200) -> dict[str, Any]:
    """The body, checked as FHIR JSON of the expected status and valid R4B."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR_JSON
    body: dict[str, Any] = response.json()
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    return body


def refused(response: Any, status: int) -> str:
    """The OperationOutcome's message of a refusal with ``status``."""
    outcome = fhir(response, status)
    assert outcome["resourceType"] == "OperationOutcome"
    (issue,) = outcome["issue"]
    return str(issue["details"]["text"])


def _search(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    return fhir(client.get("/fhir/AuditEvent", params=params, headers=headers))


def _link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((x["url"] for x in bundle["link"] if x["relation"] == relation), None)


def test_the_capability_statement_is_served_at_metadata_without_signing_in(
    client: TestClient,
) -> None:
    """GET /fhir/metadata: a valid CapabilityStatement naming what the base serves."""
    statement = fhir(client.get("/fhir/metadata"))
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    (rest,) = statement["rest"]
    audit = next(r for r in rest["resource"] if r["type"] == "AuditEvent")
    assert {p["name"] for p in audit["searchParam"]} == {"date", "patient", "_count"}


def test_a_searchset_pages_with_self_and_next_links(
    client: TestClient, admin: dict[str, str], clinician: dict[str, str], clinics: TwoClinics
) -> None:
    """Following ``next`` walks every match once; the last page has no ``next``."""
    for _ in range(3):
        new_patient(client, clinician, clinics.a.clinic.id)
    first = _search(client, admin, _count=2)
    assert first["type"] == "searchset"
    assert dict(parse_qsl(urlsplit(_link(first, "self") or "").query))["_count"] == "2"
    seen: list[str] = []
    page: dict[str, Any] | None = first
    while page is not None:
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        assert all(e["search"]["mode"] == "match" for e in page.get("entry", []))
        following = _link(page, "next")
        page = None
        if following is not None:
            parts = urlsplit(following)
            assert parts.path == "/fhir/AuditEvent"
            page = fhir(client.get(parts.path, params=parse_qsl(parts.query), headers=admin))
    # Each search is itself audited, so the log grows while it is paged through.
    assert len(seen) == len(set(seen))
    assert len(seen) >= first["total"] >= 4
    assert seen == sorted(seen, key=int)
    total_only = _search(client, admin, _count=0)
    assert total_only.get("entry", []) == []
    assert total_only["total"] >= first["total"]


def test_the_date_parameter_bounds_when_events_were_recorded(
    client: TestClient, clinics: TwoClinics, clock: FrozenClock
) -> None:
    """ge, lt and a plain day select by ``recorded``; both bounds together give a window."""
    new_patient(client, bearer(client, clinics.a.users[Role.CLINICIAN]), clinics.a.clinic.id)
    clock.advance(timedelta(days=3))
    later = clock.now()
    admin = bearer(client, clinics.a.users[Role.ADMIN])
    clinician = bearer(client, clinics.a.users[Role.CLINICIAN])
    patient = new_patient(client, clinician, clinics.a.clinic.id)
    day = later.date().isoformat()
    found = _search(client, admin, date=f"ge{day}", _count=200)
    recorded = [e["resource"]["recorded"] for e in found["entry"]]
    assert recorded
    assert all(r >= day for r in recorded)
    assert any(
        {"reference": f"Patient/{patient}"} == x["what"]
        for e in found["entry"]
        for x in e["resource"].get("entity", [])
    )
    before = _search(client, admin, date=f"lt{day}", _count=200)
    assert before["total"] >= 1
    assert all(e["resource"]["recorded"] < day for e in before["entry"])
    same_day = _search(client, admin, date=day, _count=200)
    assert all(e["resource"]["recorded"].startswith(day) for e in same_day["entry"])
    assert same_day["total"] >= found["total"]  # the searches between are audited too
    window = _search(client, admin, date=[f"ge{day}", f"lt{day}"])
    assert window["total"] == 0


def test_the_patient_parameter_narrows_to_one_patient_within_the_admins_clinics(
    client: TestClient, admin: dict[str, str], clinician: dict[str, str], clinics: TwoClinics
) -> None:
    """patient=Patient/x: that patient's entries only; clinic B's admin sees none of them."""
    patient = new_patient(client, clinician, clinics.a.clinic.id)
    other = new_patient(client, clinician, clinics.a.clinic.id)
    ok(client.get(f"/api/v1/patients/{patient}", headers=clinician))
    found = _search(client, admin, patient=f"Patient/{patient}")
    assert found["total"] >= 2  # registered and read
    for entry in found["entry"]:
        whats = [x["what"] for x in entry["resource"]["entity"]]
        assert {"reference": f"Patient/{patient}"} in whats
        assert {"reference": f"Patient/{other}"} not in whats
    assert _search(client, admin, patient=patient)["total"] == found["total"]
    outsider = bearer(client, clinics.b.users[Role.ADMIN])
    assert _search(client, outsider, patient=f"Patient/{patient}")["total"] == 0


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"_sort": "-date"}, "'_sort'"),
        ({"subtype": "patient.read"}, "'subtype'"),
        ({"date:missing": "true"}, "'date:missing'"),
        ({"date": "yesterday"}, "'date'"),
        ({"date": "2026-11-25T09:00:00"}, "'date'"),
        ({"_count": "many"}, "'_count'"),
        ({"_count": "-1"}, "'_count'"),
        ({"patient": "Group/1"}, "'patient'"),
        ({"patient": ["Patient/a", "Patient/b"]}, "'patient'"),
    ],
)
def test_a_search_parameter_it_cannot_honour_is_refused_with_400(
    client: TestClient, admin: dict[str, str], params: dict[str, Any], named: str
) -> None:
    """Never ignored silently: 400 and an OperationOutcome naming the parameter."""
    assert named in refused(client.get("/fhir/AuditEvent", params=params, headers=admin), 400)


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"_format": "xml"}, {}),
        ({"_format": "application/fhir+xml"}, {}),
        ({}, {"Accept": "application/fhir+xml"}),
        ({}, {"Accept": "application/xml, text/html;q=0.9"}),
        ({}, {"Accept": "application/fhir+json;q=0"}),
    ],
)
def test_a_format_it_cannot_serve_is_refused_with_406(
    client: TestClient, admin: dict[str, str], params: dict[str, str], headers: dict[str, str]
) -> None:
    """XML (or nothing JSON) asked for: 406, not JSON passed off as what was asked."""
    for path in ("/fhir/metadata", "/fhir/AuditEvent"):
        response = client.get(path, params=params, headers=admin | headers)
        assert "only" in refused(response, 406)


@pytest.mark.parametrize(
    "accept", ["application/fhir+json", "application/json", "*/*", "application/xml, */*;q=0.1"]
)
def test_json_is_served_to_whoever_accepts_it(client: TestClient, accept: str) -> None:
    """Any Accept that admits JSON gets the resource."""
    fhir(client.get("/fhir/metadata", headers={"Accept": accept}))
    fhir(client.get("/fhir/metadata", params={"_format": "json"}))


def test_every_error_under_fhir_and_cds_services_is_an_operation_outcome(
    client: TestClient, clinician: dict[str, str]
) -> None:
    """Unknown type, wrong method, no token, not allowed, unknown CDS service."""
    refused(client.get("/fhir/Patient"), 404)
    refused(client.post("/fhir/AuditEvent", json={}), 405)
    refused(client.get("/fhir/AuditEvent"), 401)
    refused(client.get("/fhir/AuditEvent", headers=clinician), 403)
    refused(client.get("/fhir/Consent/nope", headers=clinician), 404)
    refused(client.get("/fhir/Questionnaire/other", headers=clinician), 404)
    refused(client.post("/cds-services/no-such-service", json={}), 404)
    refused(client.get("/cds-services/no-such-service/feedback"), 405)
    problem = client.get("/api/v1/patients/nope", headers=clinician)
    assert problem.headers["content-type"] == "application/problem+json"


def test_the_questionnaire_and_a_consent_are_read_at_the_base(
    client: TestClient, clinician: dict[str, str], clinics: TwoClinics
) -> None:
    """The intake Questionnaire in either language, and a patient's Consent, as R4."""
    english = fhir(client.get("/fhir/Questionnaire/scalp-mesotherapy-intake", headers=clinician))
    assert english["language"] == "en"
    vietnamese = client.get(
        "/fhir/Questionnaire/scalp-mesotherapy-intake",
        params={"language": "vi"},
        headers=clinician,
    )
    assert fhir(vietnamese)["language"] == "vi"
    patient = new_patient(client, clinician, clinics.a.clinic.id)
    consent = consented(client, clinician, patient)
    resource = fhir(client.get(f"/fhir/Consent/{consent}", headers=clinician))
    assert resource["resourceType"] == "Consent"
    assert resource["patient"] == {"reference": f"Patient/{patient}"}
