"""Clinical records over HTTP: snapshots, corrections, If-Match, signing, plan gates, errors."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from mesoscreen.domain.access import Role
from tests.factories import TwoClinics, allergy_answers
from tests.integration.api.conftest import bearer
from tests.integration.api.records import (
    ETAG_1,
    EVENT_BODY,
    PLAN_BODY,
    consented,
    new_patient,
    new_screening,
    ok,
    session_body,
    signed_screening,
)


@pytest.fixture
def clinician(client: TestClient, clinics: TwoClinics) -> dict[str, str]:
    """Headers of clinic A's clinician."""
    return bearer(client, clinics.a.users[Role.CLINICIAN])


@pytest.fixture
def patient(client: TestClient, clinics: TwoClinics, clinician: dict[str, str]) -> str:
    """A patient of clinic A."""
    return new_patient(client, clinician, clinics.a.clinic.id)


def test_posting_an_intake_stores_the_full_snapshot(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """The screening keeps answers, decision, knowledge-base version and hash, and the policy."""
    screening = new_screening(client, clinician, patient)
    assert screening["outcome"] == "eligible"
    assert screening["knowledge_base_hash"].startswith("sha256:")
    assert screening["decision"]["knowledge_base"]["hash"] == screening["knowledge_base_hash"]
    assert screening["policy"]["name"].startswith("default")
    assert screening["answers"]["sex"] == "male"
    again = ok(client.get(f"/api/v1/screenings/{screening['id']}", headers=clinician))
    assert again["decision"] == screening["decision"]


def test_an_invalid_intake_stores_nothing(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """A bad answer is a 422 problem and leaves no screening behind."""
    response = client.post(
        f"/api/v1/patients/{patient}/screenings",
        json={"answers": {"pregnant": "perhaps"}},
        headers=clinician,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    listed = ok(client.get(f"/api/v1/patients/{patient}/screenings", headers=clinician))
    assert listed["total"] == 0


def test_a_correction_is_a_new_screening_that_points_at_the_old_one(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """The original stays as it was, marked replaced; correcting it twice is a conflict."""
    first = new_screening(client, clinician, patient)
    body = {"answers": allergy_answers()}
    second = ok(
        client.post(f"/api/v1/screenings/{first['id']}/corrections", json=body, headers=clinician),
        201,
    )
    assert second["replaces_id"] == first["id"]
    old = ok(client.get(f"/api/v1/screenings/{first['id']}", headers=clinician))
    assert old["replaced"] is True
    assert old["answers"] == first["answers"]
    # The list says so too, also on a page of one that does not hold the correction.
    expected = {first["id"]: True, second["id"]: False}
    base = f"/api/v1/patients/{patient}/screenings"
    listed = ok(client.get(base, headers=clinician))["items"]
    assert {s["id"]: s["replaced"] for s in listed} == expected
    for offset in (0, 1):
        one = ok(client.get(f"{base}?limit=1&offset={offset}", headers=clinician))["items"]
        assert [(s["id"], s["replaced"]) for s in one] == [(one[0]["id"], expected[one[0]["id"]])]
    twice = client.post(
        f"/api/v1/screenings/{first['id']}/corrections", json=body, headers=clinician
    )
    assert twice.status_code == 409


def test_a_stale_write_gets_412_and_changes_nothing(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """A and B read v1; A writes v2; B's write with If-Match v1 is refused and absent."""
    read = client.get(f"/api/v1/patients/{patient}", headers=clinician)
    assert read.headers["ETag"] == 'W/"1"'
    a = {"family_name": "Tran", "given_name": "Minh Anh"}
    written = client.put(f"/api/v1/patients/{patient}", json=a, headers=clinician | ETAG_1)
    assert written.headers["ETag"] == 'W/"2"'
    b = {"family_name": "Tran", "given_name": "Minh B"}
    stale = client.put(f"/api/v1/patients/{patient}", json=b, headers=clinician | ETAG_1)
    assert stale.status_code == 412
    assert ok(client.get(f"/api/v1/patients/{patient}", headers=clinician))["given_name"] == (
        "Minh Anh"
    )


def test_an_edit_without_if_match_is_refused_with_428(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """Editable records demand If-Match: 428 naming the header, and the record is unchanged."""
    body = {"family_name": "Tran", "given_name": "X"}
    refused = client.put(f"/api/v1/patients/{patient}", json=body, headers=clinician)
    assert refused.status_code == 428
    assert refused.json()["code"] == "if_match_required"
    stored = ok(client.get(f"/api/v1/patients/{patient}", headers=clinician))
    assert (stored["given_name"], stored["version"]) == ("Minh", 1)


def test_mass_assignment_of_protected_fields_is_refused(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """A body carrying clinic_id or signed_by on an edit is a 422 naming that field, and
    nothing of the edit is stored (not even its allowed fields)."""
    before = ok(client.get(f"/api/v1/patients/{patient}", headers=clinician))
    for field, value in (("clinic_id", "elsewhere"), ("signed_by", "me")):
        body = {"family_name": "Tran", "given_name": "Changed", field: value}
        response = client.put(f"/api/v1/patients/{patient}", json=body, headers=clinician | ETAG_1)
        assert response.status_code == 422
        assert [e["loc"][-1] for e in response.json()["errors"]] == [field]
    assert ok(client.get(f"/api/v1/patients/{patient}", headers=clinician)) == before


def test_a_plan_needs_a_permitting_outcome_and_every_blocking_action_done(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """Contraindicated → 422; open allergy test → 422; once recorded negative → 201."""
    pregnant = allergy_answers() | {
        "pregnant": "yes",
        "sex": "female",
        "breastfeeding": "no",
        "recently_weaned": "no",
    }
    blocked = new_screening(client, clinician, patient, pregnant)
    ok(client.post(f"/api/v1/screenings/{blocked['id']}/sign", headers=clinician | ETAG_1))
    refused = client.post(
        f"/api/v1/screenings/{blocked['id']}/plans", json=PLAN_BODY, headers=clinician
    )
    assert refused.status_code == 422
    allergy = new_screening(client, clinician, patient, allergy_answers())
    ok(client.post(f"/api/v1/screenings/{allergy['id']}/sign", headers=clinician | ETAG_1))
    action = allergy["decision"]["required_actions"][0]["id"]
    plan_url = f"/api/v1/screenings/{allergy['id']}/plans"
    open_action = client.post(plan_url, json=PLAN_BODY, headers=clinician)
    assert open_action.status_code == 422
    assert action in open_action.json()["detail"]
    result = {"action_id": action, "result": "negative", "performed_on": "2026-11-24"}
    ok(client.post(f"/api/v1/screenings/{allergy['id']}/actions", json=result, headers=clinician),
       201)  # fmt: skip
    assert client.post(plan_url, json=PLAN_BODY, headers=clinician).status_code == 201


def test_a_signed_plan_is_never_edited_and_an_amendment_keeps_it(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """PUT on a signed plan → 409; an amendment is a new draft and the signed one is unchanged."""
    screening = signed_screening(client, clinician, patient)
    plan = ok(
        client.post(f"/api/v1/screenings/{screening}/plans", json=PLAN_BODY, headers=clinician),
        201,
    )
    edited = ok(client.put(f"/api/v1/plans/{plan['id']}", json=PLAN_BODY | {"zones": ["vertex"]},
                           headers=clinician | ETAG_1))  # fmt: skip
    ok(client.post(f"/api/v1/plans/{plan['id']}/sign", headers=clinician | {"If-Match": 'W/"2"'}))
    refused = client.put(
        f"/api/v1/plans/{plan['id']}", json=PLAN_BODY,
        headers=clinician | {"If-Match": 'W/"3"'},
    )  # fmt: skip
    assert refused.status_code == 409
    amendment = ok(client.post(f"/api/v1/plans/{plan['id']}/amendments", headers=clinician), 201)
    assert amendment["replaces_id"] == plan["id"]
    assert amendment["status"] == "draft"
    original = ok(client.get(f"/api/v1/plans/{plan['id']}", headers=clinician))
    assert original["status"] == "signed"
    assert original["document"] == edited["document"]
    assert edited["document"]["request"]["zones"] == ["vertex"]
    assert original["replaced"] is True


def test_a_specialist_clearance_names_who_and_when(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """A clearance without cleared_by is a 422; with it, it is recorded as done."""
    screening = new_screening(
        client, clinician, patient, allergy_answers() | {"allergy_history": "no",
        "cardiovascular_disease": "yes", "cardiovascular_stable": "yes"}
    )  # fmt: skip
    actions = {a["kind"]: a["id"] for a in screening["decision"]["required_actions"]}
    clearance = actions["specialist_clearance"]
    url = f"/api/v1/screenings/{screening['id']}/actions"
    body = {"action_id": clearance, "result": "cleared", "performed_on": "2026-11-20"}
    assert client.post(url, json=body, headers=clinician).status_code == 422
    body |= {"cleared_by": "Dr. Cardio", "cleared_at": "2026-11-20T10:00:00Z"}
    recorded = ok(client.post(url, json=body, headers=clinician), 201)
    assert recorded["done"] is True
    assert recorded["cleared_by"] == "Dr. Cardio"


def test_sessions_refuse_expired_products_and_total_their_volume(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """An expired lot is a 422; a valid session sums its point volumes."""
    consented(client, clinician, patient)
    url = f"/api/v1/patients/{patient}/treatment-sessions"
    expired = client.post(url, json=session_body(expiry="2026-01-31"), headers=clinician)
    assert expired.status_code == 422
    assert "L123" in expired.json()["detail"]
    session = ok(client.post(url, json=session_body(), headers=clinician), 201)
    assert session["total_volume_ml"] == pytest.approx(0.2)
    assert session["products"][0]["lot_number"] == "L123"


def test_adverse_events_use_the_knowledge_base_catalogue(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """An unknown complication id is a 422; free text alone is accepted."""
    url = f"/api/v1/patients/{patient}/adverse-events"
    unknown = client.post(
        url, json=EVENT_BODY | {"complication_id": "dragon_bite"}, headers=clinician
    )
    assert unknown.status_code == 422
    free = EVENT_BODY | {"complication_id": None, "description": "itching at one point"}
    assert client.post(url, json=free, headers=clinician).status_code == 201


def test_lists_are_paged(client: TestClient, clinician: dict[str, str], patient: str) -> None:
    """limit and offset page a patient's screenings."""
    for _ in range(3):
        new_screening(client, clinician, patient)
    url = f"/api/v1/patients/{patient}/screenings"
    page = ok(client.get(url, params={"limit": 2, "offset": 2}, headers=clinician))
    assert (page["total"], len(page["items"]), page["offset"]) == (3, 1, 2)


def test_errors_are_problem_details_without_tracebacks(client: TestClient) -> None:
    """401, 404 and 405 answers are problem+json with a correlation id."""
    for method, url in (
        ("GET", "/api/v1/patients"),
        ("GET", "/nowhere"),
        ("DELETE", "/api/v1/patients"),
    ):
        response = client.request(method, url)
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["correlation_id"] == response.headers["x-correlation-id"]
        assert "Traceback" not in response.text


def test_an_oversized_body_is_refused_with_413(
    client: TestClient, clinician: dict[str, str], patient: str
) -> None:
    """Bodies over the limit never reach the use case: 413 with its code, nothing stored."""
    big = {"answers": {"allergens": ["x" * 2_000_000]}}
    response = client.post(f"/api/v1/patients/{patient}/screenings", json=big, headers=clinician)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    listed = ok(client.get(f"/api/v1/patients/{patient}/screenings", headers=clinician))
    assert listed["total"] == 0


def test_responses_carry_security_headers(client: TestClient) -> None:
    """nosniff, no-store, a CSP with frame-ancestors and HSTS are on every answer."""
    headers = client.get("/api/v1/auth/session").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["strict-transport-security"].startswith("max-age=31536000")


def test_every_read_of_patient_data_is_audited_and_exported_as_fhir(
    client: TestClient, clinics: TwoClinics, clinician: dict[str, str], patient: str
) -> None:
    """A patient read writes one R entry, shown as a FHIR AuditEvent; FHIR errors are outcomes."""
    admin = bearer(client, clinics.a.users[Role.ADMIN])
    before = ok(client.get("/api/v1/audit", params={"limit": 1}, headers=admin))["total"]
    ok(client.get(f"/api/v1/patients/{patient}", headers=clinician))
    after = ok(client.get("/api/v1/audit", params={"limit": 1}, headers=admin))["total"]
    assert after == before + 2  # the read, and the admin's own first report
    bundle = client.get("/fhir/AuditEvent", params={"_offset": before, "_count": 5}, headers=admin)
    assert bundle.headers["content-type"] == "application/fhir+json"
    events = [e["resource"] for e in bundle.json()["entry"]]
    read = next(e for e in events if e["subtype"][0]["code"] == "patient.read")
    assert read["action"] == "R"
    assert {"reference": f"Patient/{patient}"} in [x["what"] for x in read["entity"]]
    refused = client.get("/fhir/AuditEvent", headers=clinician)
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"


def test_logs_never_carry_patient_names(
    client: TestClient,
    clinics: TwoClinics,
    clinician: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Registering, reading and failing on a patient logs no name."""
    caplog.set_level(logging.DEBUG)
    body = {"clinic_id": clinics.a.clinic.id, "family_name": "Quynhsecretname", "given_name": "Z"}
    patient = ok(client.post("/api/v1/patients", json=body, headers=clinician), 201)["id"]
    client.get(f"/api/v1/patients/{patient}", headers=clinician)
    bad = {"answers": {"sex": "Quynhsecretname"}}
    client.post(f"/api/v1/patients/{patient}/screenings", json=bad, headers=clinician)
    assert "Quynhsecretname" not in caplog.text
