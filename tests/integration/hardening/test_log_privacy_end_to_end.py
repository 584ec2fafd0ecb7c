"""No patient data in any log line of a whole end-to-end run of the real server.

``mesoscreen serve`` runs as in production (its access log on); a visit goes through the API,
the pages and the CDS service with a seeded patient, including searches by name, refusals,
conflicts and invalid input quoting the name. Then the server's whole output is searched
for the seeded name, phone number and free-text answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mesoscreen.bootstrap import build_services
from mesoscreen.domain.access import Role
from tests.conftest import DIALECTS, migrated_database
from tests.factories import PASSWORD, eligible_answers, records_settings, seed_clinic
from tests.integration.cds_hooks.hook_requests import RECORD, SIGN, hook_request, prefetch_of
from tests.integration.crash.test_sigkill_durability import CHEAP_ARGON2, _free_port
from tests.integration.web.conftest import csrf_in

FAMILY, GIVEN, PHONE, ALLERGEN = "Zyxwquorra", "Vellantine", "+84 912 777 431", "Qorvaxidine"

pytestmark = pytest.mark.slow


def _serve(url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server (one process, its default logging) writing everything to ``log``."""
    port = _free_port()
    env = os.environ | CHEAP_ARGON2 | {"MESOSCREEN_CDS_DEVELOPMENT_MODE": "true"}
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "mesoscreen", "serve", "--port", str(port), "--database", url],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited early: {log.read_text()}")
        try:
            httpx.get(f"{base}/health", timeout=1.0)
            return process, base
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("server did not start")


def _visit(base: str, username: str, clinic_id: str) -> None:
    """A clinician's day with one patient, through every door, mistakes included."""
    with httpx.Client(base_url=base, timeout=30.0) as api:
        token = api.post("/api/v1/auth/token", json={"username": username,
                                                      "password": PASSWORD}).json()  # fmt: skip
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        details = {"clinic_id": clinic_id, "family_name": FAMILY, "given_name": GIVEN,
                   "phone": PHONE, "birth_date": "1990-04-12", "sex": "female"}  # fmt: skip
        patient = api.post("/api/v1/patients", json=details, headers=headers).json()
        assert api.get("/api/v1/patients", params={"name": FAMILY}, headers=headers).is_success
        answers = eligible_answers() | {"allergy_history": "yes", "allergens": [ALLERGEN]}
        screened = api.post(f"/api/v1/patients/{patient['id']}/screenings",
                            json={"answers": answers}, headers=headers)  # fmt: skip
        assert screened.status_code == 201, screened.text
        refusals = [
            api.put(f"/api/v1/patients/{patient['id']}", headers=headers | {"If-Match": 'W/"9"'},
                    json={"family_name": FAMILY, "given_name": GIVEN}),
            api.post("/api/v1/patients", headers=headers,
                     json=details | {"birth_date": "2999-01-01"}),
            api.post("/api/v1/patients", headers=headers, json=details | {"note": FAMILY}),
            api.post("/api/v1/patients", headers=headers, json={"family_name": [FAMILY] * 3}),
            api.post("/api/v1/patients", headers=headers | {"Content-Type": "text/plain"},
                     content=f"family_name={FAMILY}".encode()),
            api.get(f"/api/v1/patients/{FAMILY}", headers=headers),
            api.post("/api/v1/auth/token", json={"username": FAMILY, "password": GIVEN}),
        ]  # fmt: skip
        assert all(400 <= r.status_code < 500 for r in refusals), [r.text for r in refusals]
        named = RECORD[0] | {"name": [{"family": FAMILY, "given": [GIVEN]}],
                             "telecom": [{"system": "phone", "value": PHONE}]}  # fmt: skip
        cds = api.post(SIGN, json=hook_request(prefetch=prefetch_of([named, *RECORD[1:]])))
        assert cds.status_code == 200, cds.text

    with httpx.Client(base_url=base, timeout=30.0) as browser:
        form = csrf_in(browser.get("/signin").text)
        signed_in = browser.post("/signin", data={"username": username, "password": PASSWORD,
                                                  "csrf": form})  # fmt: skip
        assert signed_in.status_code == 303, signed_in.text
        for path in (f"/patients?q={FAMILY}", f"/patients/{patient['id']}",
                     f"/screenings/{screened.json()['id']}",
                     f"/screenings/{screened.json()['id']}/handout"):  # fmt: skip
            assert browser.get(path).status_code == 200, path


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_servers_logs_of_a_whole_visit_hold_no_patient_data(
    dialect: str, tmp_path: Path
) -> None:
    """Name, phone and free-text answer appear in no line the server wrote (its access log
    included, which must have recorded the visit)."""
    with migrated_database(dialect, tmp_path) as url:
        services = build_services(records_settings(url))
        try:
            staff = seed_clinic(services.accounts)
        finally:
            services.close()
        log = tmp_path / "server.log"
        process, base = _serve(url, log)
        try:
            _visit(base, staff.users[Role.CLINICIAN].username, staff.clinic.id)
        finally:
            process.terminate()
            process.wait(timeout=30)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert '"GET /api/v1/patients?… HTTP/1.1" 200' in text, text[-2000:]
    assert 'POST /cds-services/{service_id} HTTP/1.1" 200' in text
    assert 'GET /api/v1/patients/{patient_id} HTTP/1.1" 404' in text
    for secret in (FAMILY, GIVEN, PHONE, PHONE.replace(" ", ""), ALLERGEN):
        assert secret not in text, f"{secret!r} is in the server's log"
