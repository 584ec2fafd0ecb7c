"""Quick set-up of records in the browser's own session (its cookies, the pages' CSRF tokens):
the pages under test are then opened as a user would open them."""

from __future__ import annotations

import re
from typing import Any

from tests.intakes import intake

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
_VERSION = re.compile(r'name="version" value="([^"]*)"')


def csrf_of(page: Any, base: str, path: str = "/patients") -> str:
    """The signed-in CSRF token the pages carry."""
    found = _CSRF.search(page.request.get(f"{base}{path}").text())
    assert found, "no form with a CSRF token"
    return found.group(1)


def post(page: Any, base: str, path: str, form: dict[str, str]) -> str:
    """Post ``form`` as the page's forms do; the path the server sends the browser on to."""
    response = page.request.post(f"{base}{path}", form=form, max_redirects=0,
                                 headers={"Origin": base})  # fmt: skip
    assert response.status == 303, (path, response.status, response.text()[:300])
    return str(response.headers["location"])


def signed_screening(
    page: Any, base: str, sex: str = "male", family: str = "Tran"
) -> tuple[str, str]:
    """A new patient with a signed eligible screening: (patient id, screening id)."""
    csrf = csrf_of(page, base)
    details = {"csrf": csrf, "family_name": family, "given_name": "Minh",
               "birth_date": "1984-09-30", "sex": sex}  # fmt: skip
    patient = post(page, base, "/patients/new", details).rsplit("/", 1)[1]
    answers = {k: str(v) for k, v in intake(sex).items()}
    screening = post(page, base, f"/patients/{patient}/intake", {"csrf": csrf, **answers})
    screening_id = screening.rsplit("/", 1)[1]
    found = _VERSION.search(page.request.get(f"{base}/screenings/{screening_id}").text())
    assert found
    post(page, base, f"/screenings/{screening_id}/sign", {"csrf": csrf, "version": found.group(1)})
    return patient, screening_id
