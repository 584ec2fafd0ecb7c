"""Text a database cannot store and numbers past its integers are refused at the edge, naming
the field (422 from the API, a page saying so from the pages), never a 500, on both databases.

PostgreSQL refuses a NUL character in text and JSON; neither database stores a lone UTF-16
surrogate (it cannot be encoded as UTF-8); an offset past a 64-bit integer overflows both.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.text import MAX_PAGE_POSITION, unstorable_reason
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.error_words import RefusalWords
from mesoscreen.entrypoints.web.i18n import messages
from tests.factories import PASSWORD, TwoClinics, seed_clinic
from tests.intakes import intake
from tests.integration.api.conftest import bearer
from tests.integration.api.photos import post_photo
from tests.integration.web.conftest import csrf_in, new_browser, new_patient, sign_in
from tests.strategies import hostile_text, page_positions

NUL = "\x00"
LONE_SURROGATE = "\ud800"
PAST_INT64 = 2**63
PAST_INT32 = 2**31


def _refused(response: Any, field: str) -> None:
    """A 422 problem whose detail names ``field``."""
    assert response.status_code == 422, (response.status_code, response.text)
    body = response.json()
    assert field in body["detail"], body


def _post(client: TestClient, route: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    """POST ``body`` as JSON written with escapes, as a client may send a lone surrogate."""
    return client.post(route, content=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip


@pytest.mark.parametrize("hostile", [NUL, LONE_SURROGATE], ids=["nul", "lone-surrogate"])
def test_sign_in_with_unstorable_text_in_the_username_is_422_naming_it(
    client: TestClient, hostile: str
) -> None:
    """Both sign-ins, before any account is looked up."""
    for route in ("/api/v1/auth/login", "/api/v1/auth/token"):
        response = _post(client, route, {"username": f"ad{hostile}min", "password": "x"})
        _refused(response, "username")


@pytest.mark.parametrize("hostile", [NUL, LONE_SURROGATE], ids=["nul", "lone-surrogate"])
def test_unstorable_text_in_a_record_body_is_422_naming_the_field(
    client: TestClient, clinics: TwoClinics, hostile: str
) -> None:
    """Names, notes and intake answers: the field is named with its place in the body."""
    headers = bearer(client, clinics.a.users[Role.CLINICIAN])
    clinic = clinics.a.clinic.id
    created = client.post("/api/v1/patients", headers=headers, json={
        "clinic_id": clinic, "family_name": "Tran", "given_name": "Lan"})  # fmt: skip
    assert created.status_code == 201, created.text
    patient = created.json()["id"]
    body = {"clinic_id": clinic, "family_name": f"Tr{hostile}an", "given_name": "Lan"}
    response = _post(client, "/api/v1/patients", body, headers)
    _refused(response, "family_name")
    answers = intake("female", allergy_history="yes", allergens=[f"pea{hostile}nuts"])
    response = _post(client, f"/api/v1/patients/{patient}/screenings", {"answers": answers},
                     headers)  # fmt: skip
    _refused(response, "answers.allergens[0]")
    # A key is a field too.
    response = _post(client, f"/api/v1/patients/{patient}/screenings",
                     {"answers": {f"sex{hostile}": "female"}}, headers)  # fmt: skip
    _refused(response, "answers")


def test_unstorable_text_in_a_photo_note_is_422_naming_it(
    client: TestClient, clinics: TwoClinics
) -> None:
    """A multipart upload's text fields are checked like a JSON body's."""
    headers = bearer(client, clinics.a.users[Role.CLINICIAN])
    created = client.post("/api/v1/patients", headers=headers, json={
        "clinic_id": clinics.a.clinic.id, "family_name": "Tran", "given_name": "Lan"})  # fmt: skip
    patient = created.json()["id"]
    _refused(post_photo(client, headers, patient, note=f"left{NUL}side"), "note")


def test_unstorable_text_in_a_query_or_a_path_is_422_naming_it(
    client: TestClient, clinics: TwoClinics
) -> None:
    """Search terms and ids arrive in the query string and the path."""
    headers = bearer(client, clinics.a.users[Role.CLINICIAN])
    _refused(client.get("/api/v1/patients?name=Tr%00an", headers=headers), "name")
    _refused(client.get("/api/v1/patients/ab%00cd", headers=headers), "path")
    admin = bearer(client, clinics.a.users[Role.ADMIN])
    _refused(client.get("/api/v1/users?offset=1&x=%00", headers=admin), "x")


@pytest.mark.parametrize(
    ("route", "role"),
    [
        ("/api/v1/patients", Role.CLINICIAN),
        ("/api/v1/audit", Role.ADMIN),
        ("/api/v1/users", Role.ADMIN),
    ],
)
@pytest.mark.parametrize("value", [PAST_INT64, PAST_INT32, -1])
def test_a_paging_value_outside_the_databases_integers_is_422_naming_it(
    client: TestClient, clinics: TwoClinics, route: str, role: Role, value: int
) -> None:
    """``offset`` and ``limit`` from 0 (1 for a limit) to 2^31-1 at most, on every list."""
    headers = bearer(client, clinics.a.users[role])
    _refused(client.get(f"{route}?offset={value}", headers=headers), "offset")
    _refused(client.get(f"{route}?limit={value}", headers=headers), "limit")
    assert client.get(f"{route}?offset={PAST_INT32 - 1}", headers=headers).status_code == 200


def _names_the_field(services: Services, page: str, field: str) -> None:
    """The page's refusal names ``field`` as the clinician reads it (its label, or an intake
    question's text), in the page's language (English here), before the reason."""
    words = RefusalWords(services.screening.kb, services.planner.formulary)
    label = words.field_label(field, messages()[Language.EN], Language.EN)
    assert label, f"{field!r} has no label for a page to name it by"
    assert f"{label}: " in html.unescape(page), (field, label)


def test_the_pages_refuse_unstorable_text_in_forms_naming_the_field(services: Services) -> None:
    """The sign-in form, a new patient, an intake and the search: a page naming the field,
    never a 500 (a form cannot carry a lone surrogate: its bytes decode as U+FFFD)."""
    hostile = NUL
    staff = seed_clinic(services.accounts)
    with new_browser(services) as browser:
        form_token = csrf_in(browser.get("/signin").text)
        response = browser.post("/signin", data={"username": f"a{hostile}b", "password": PASSWORD,
                                                 "csrf": form_token})  # fmt: skip
        assert response.status_code == 422, response.text
        _names_the_field(services, response.text, "username")
        csrf = sign_in(browser, staff, Role.CLINICIAN)
        response = browser.post("/patients/new", data={
            "csrf": csrf, "family_name": f"Ng{hostile}uyen", "given_name": "Lan",
            "birth_date": "1990-04-12", "sex": "female"})  # fmt: skip
        assert response.status_code == 422, response.text
        _names_the_field(services, response.text, "family_name")
        patient = new_patient(browser, csrf)
        response = browser.post(f"/patients/{patient}/intake",
                                data={"csrf": csrf, "allergy_history": "yes",
                                      "allergens": f"pea{hostile}nuts"})  # fmt: skip
        assert response.status_code == 422, response.text
        _names_the_field(services, response.text, "allergens")
        response = browser.get("/patients?q=Ng%00uyen")
        assert response.status_code == 422, response.text
        _names_the_field(services, response.text, "q")


def test_the_audit_page_refuses_an_offset_past_the_databases_integers(
    services: Services,
) -> None:
    """The pages' paging parameters are bounded by the same rule as the API's."""
    staff = seed_clinic(services.accounts)
    with new_browser(services) as browser:
        sign_in(browser, staff, Role.ADMIN)
        response = browser.get(f"/admin/audit?offset={PAST_INT64}")
        assert response.status_code == 422, response.text
        _names_the_field(services, response.text, "offset")


_FUZZ = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


def test_any_text_in_names_search_notes_answers_and_sign_in_is_stored_or_named_never_a_500(
    client: TestClient, clinics: TwoClinics
) -> None:
    """Hypothesis over text (half of it unstorable): each write and search either works or,
    exactly when the text is unstorable, is a 422 naming the field."""
    headers = bearer(client, clinics.a.users[Role.CLINICIAN])
    created = client.post("/api/v1/patients", headers=headers, json={
        "clinic_id": clinics.a.clinic.id, "family_name": "Tran", "given_name": "Lan"})  # fmt: skip
    patient = created.json()["id"]

    @_FUZZ
    @given(text=hostile_text())
    def check(text: str) -> None:
        storable = unstorable_reason(text) is None
        answers = intake("female", allergy_history="yes", allergens=[text])
        query = quote(text.encode("utf-8", "surrogatepass"))
        person = {"clinic_id": clinics.a.clinic.id, "family_name": text, "given_name": "Lan"}
        screenings = f"/api/v1/patients/{patient}/screenings"
        credentials = {"username": text, "password": "not it"}
        for field, response in [
            ("family_name", _post(client, "/api/v1/patients", person, headers)),
            ("answers.allergens[0]", _post(client, screenings, {"answers": answers}, headers)),
            ("username", _post(client, "/api/v1/auth/token", credentials)),
            ("name", client.get(f"/api/v1/patients?name={query}", headers=headers)),
        ]:
            assert response.status_code < 500, (field, response.text)
            refused_here = response.status_code == 422 and response.json()["code"] == (
                "unstorable_value"
            )
            if field == "name":
                # A query string carries UTF-8 bytes: a surrogate's bytes decode as U+FFFD.
                storable = "\x00" not in text
            assert refused_here == (not storable), (field, response.text)
            if refused_here:
                assert response.json()["field"] == field

    check()


def test_any_paging_number_is_a_page_or_a_422_naming_it(
    client: TestClient, clinics: TwoClinics
) -> None:
    """Hypothesis over offsets and limits (the edges of 0..2^31-1 and far past them)."""
    clinician = bearer(client, clinics.a.users[Role.CLINICIAN])
    admin = bearer(client, clinics.a.users[Role.ADMIN])

    @_FUZZ
    @given(value=page_positions())
    def check(value: int) -> None:
        for route, headers in (("/api/v1/patients", clinician), ("/api/v1/audit", admin)):
            for name, least in (("offset", 0), ("limit", 1)):
                response = client.get(route, params={name: value}, headers=headers)
                assert response.status_code in (200, 422), (route, name, response.text)
                assert (response.status_code == 200) == (least <= value <= MAX_PAGE_POSITION)
                if response.status_code == 422:
                    assert name in response.json()["detail"]

    check()
