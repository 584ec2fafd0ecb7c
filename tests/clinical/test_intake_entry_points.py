"""One table of vignettes through every entry point: the same intake gives the same outcome and
findings on the command line, through the API and on the intake page; the same FHIR record
the same through the command line, the API, CDS Hooks and bulk screening (issue 17 item 2).

Before issue 17 the page dropped answers to questions that do not apply while the API kept
them: a man answering "pregnant: yes" was eligible on the page and deferred through the API.
Each vignette states its expected outcome and findings, so agreement on a wrong answer fails.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from mesoscreen.adapters.bulk_export import PatientLines
from mesoscreen.adapters.fhir.questionnaire import ANSWER_SYSTEM, QUESTIONNAIRE_URL
from mesoscreen.adapters.ndjson import Line
from mesoscreen.bootstrap import Services, build_services, record_screener
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from mesoscreen.entrypoints.cli import main
from mesoscreen.services.patients import PatientDetails
from tests.conftest import migrated_database
from tests.factories import PASSWORD, ClinicStaff, records_settings, seed_clinic
from tests.fakes import FrozenClock
from tests.intakes import intake
from tests.integration.cds_hooks.hook_requests import SIGN, hook_request, prefetch_of

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ON = date(2026, 11, 25)  # the frozen clock's day
PATIENT = "1288992"  # the record system's id of the patient the hook requests name
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
DATE_QUESTIONS = ("birth_date", "weaned_on")


def _patient(gender: str, birth: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": PATIENT, "gender": gender, "birthDate": birth}


def _condition(rid: str, code: str, onset: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "subject": {"reference": f"Patient/{PATIENT}"},
            "clinicalStatus": {"coding": [{"code": "active"}]}, "onsetDateTime": onset,
            "code": {"coding": [{"system": ICD10, "code": code}]}}  # fmt: skip


def _without(answers: dict[str, Any], *questions: str) -> dict[str, Any]:
    return {k: v for k, v in answers.items() if k not in questions}


@dataclass(frozen=True, slots=True)
class Vignette:
    """An intake (and, where a record can say it, the FHIR record) and what it must give."""

    name: str
    answers: dict[str, Any]
    outcome: str
    rules: frozenset[str]
    record: list[dict[str, Any]] = field(default_factory=list)
    record_outcome: str = ""
    record_rules: frozenset[str] = frozenset()


VIGNETTES = [
    Vignette(
        "a man answering pregnant yes",
        intake("male", pregnant="yes"),
        "deferred",
        frozenset({"answer_where_not_asked_pregnant", "pregnancy"}),
        [_patient("male", "1984-09-30"), _condition("c1", "Z33.1", "2026-10-01")],
        "deferred",
        frozenset({"answer_where_not_asked_pregnant", "pregnancy"}),
    ),
    Vignette(
        "a man with a weaning date seven weeks ago",
        intake("male", weaned_on="2026-10-07"),
        "deferred",
        frozenset({"weaning_date_for_a_man", "breastfeeding", "weaning_wait"}),
    ),
    Vignette(
        "an allergen named with no allergy history",
        intake(allergy_history="no", allergens=["lidocaine"]),
        "incomplete",
        frozenset({"answer_where_not_asked_allergens", "allergy_history"}),
    ),
    Vignette(
        "breastfeeding with a weaning date",
        _without(intake(breastfeeding="yes", weaned_on="2026-10-07"), "recently_weaned"),
        "deferred",
        frozenset({"breastfeeding_with_weaning_date", "breastfeeding"}),
    ),
    Vignette(
        "a man with nothing to report (a record cannot show the absence of a risk)",
        intake("male"),
        "eligible",
        frozenset(),
        [_patient("male", "1984-09-30")],
        "incomplete",
        frozenset(),
    ),
    Vignette(
        "a woman with a history of breast cancer",
        intake(cancer_history="yes"),
        "contraindicated",
        frozenset({"cancer_history"}),
        [_patient("female", "1980-04-02"), _condition("c1", "C50.911", "2019-03-01")],
        "contraindicated",
        frozenset({"cancer_history", "pregnancy_potential"}),  # a record never rules it out
    ),
]
WITH_RECORDS = [v for v in VIGNETTES if v.record]


def _response(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The intake as a QuestionnaireResponse to the intake Questionnaire."""
    items = []
    for link, value in answers.items():
        if isinstance(value, list):
            given = [{"valueString": v} for v in value]
        elif link in DATE_QUESTIONS:
            given = [{"valueDate": value}]
        else:
            given = [{"valueCoding": {"system": ANSWER_SYSTEM, "code": value}}]
        items.append({"linkId": link, "answer": given})
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": QUESTIONNAIRE_URL, "item": items}  # fmt: skip


def _bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in resources]}  # fmt: skip


def _seen(decision: Mapping[str, Any]) -> tuple[str, frozenset[str], tuple[str, ...]]:
    """What every entry point must agree on: outcome, findings (rule ids), unanswered."""
    rules = frozenset(str(f["rule"]) for f in decision["findings"])
    return str(decision["outcome"]), rules, tuple(decision["missing"])


@dataclass
class EntryPoints:
    """The service behind its API, its pages and CDS Hooks (development mode: no token)."""

    services: Services
    staff: ClinicStaff
    client: TestClient
    headers: dict[str, str]
    csrf: str

    def new_patient(self) -> str:
        clinician = self.staff.principal(Role.CLINICIAN)
        details = PatientDetails(family_name="Tran", given_name="An")
        return self.services.patients.register(clinician, self.staff.clinic.id, details).id

    def cli(self, document: object, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "input.json"
            path.write_text(json.dumps(document), "utf-8")
            code = main(["screen", str(path), "--json", "--on", ON.isoformat()])
        out = capsys.readouterr()
        assert code == 0, out.err
        decision: dict[str, Any] = json.loads(out.out)
        return decision

    def api(self, body: dict[str, Any]) -> dict[str, Any]:
        url = f"/api/v1/patients/{self.new_patient()}/screenings"
        response = self.client.post(url, json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        decision: dict[str, Any] = response.json()["decision"]
        return decision

    def page(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        form = {k: "\n".join(v) if isinstance(v, list) else str(v) for k, v in answers.items()}
        response = self.client.post(f"/patients/{self.new_patient()}/intake",
                                    data={"csrf": self.csrf, **form},
                                    follow_redirects=False)  # fmt: skip
        assert response.status_code == 303, response.text
        screening_id = str(response.headers["location"]).rsplit("/", 1)[1]
        page = self.client.get(f"/screenings/{screening_id}")
        assert page.status_code == 200
        clinician = self.staff.principal(Role.CLINICIAN)
        return dict(self.services.screenings.get(clinician, screening_id)[0].decision)

    def cds(self, resources: list[dict[str, Any]]) -> tuple[str, str]:
        """The outcome the hook call audited, and its card's summary."""
        body = hook_request(prefetch=prefetch_of(resources))
        response = self.client.post(SIGN, json=body)
        assert response.status_code == 200, response.text
        hooks = [s.entry for s in self.services.audit.all_entries()
                 if s.entry.event_type == "cds.hook"]  # fmt: skip
        summary = " ".join(c["summary"] for c in response.json()["cards"])
        return hooks[-1].detail["outcome"], summary


@pytest.fixture(scope="module")
def entry_points() -> Iterator[EntryPoints]:
    """A clinic on a fresh SQLite database, a clinician signed in by token and by form."""
    with tempfile.TemporaryDirectory() as folder, migrated_database("sqlite", Path(folder)) as url:
        services = build_services(records_settings(url, cds_development_mode=True), FrozenClock())
        staff = seed_clinic(services.accounts)
        with TestClient(create_app(services.settings, services=services),
                        base_url="https://testserver") as client:  # fmt: skip
            user = staff.users[Role.CLINICIAN]
            token = client.post("/api/v1/auth/token",
                                json={"username": user.username, "password": PASSWORD})  # fmt: skip
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            from tests.integration.web.conftest import sign_in

            csrf = sign_in(client, staff, Role.CLINICIAN)
            yield EntryPoints(services, staff, client, headers, csrf)
        services.close()


@pytest.mark.parametrize("vignette", VIGNETTES, ids=lambda v: v.name)
def test_an_intake_gives_the_same_decision_on_every_entry_point(
    vignette: Vignette, entry_points: EntryPoints, capsys: pytest.CaptureFixture[str]
) -> None:
    """CLI (JSON and QuestionnaireResponse), API (answers and document) and the intake page."""
    seen = {
        "cli": _seen(entry_points.cli(vignette.answers, capsys)),
        "cli-questionnaire-response": _seen(entry_points.cli(_response(vignette.answers), capsys)),
        "api": _seen(entry_points.api({"answers": vignette.answers})),
        "api-questionnaire-response": _seen(
            entry_points.api({"document": _response(vignette.answers)})
        ),
        "page": _seen(entry_points.page(vignette.answers)),
    }
    outcome, rules, _ = seen["cli"]
    assert (outcome, rules) == (vignette.outcome, vignette.rules)
    assert set(seen.values()) == {seen["cli"]}, seen


@pytest.mark.parametrize("vignette", WITH_RECORDS, ids=lambda v: v.name)
def test_a_record_gives_the_same_decision_on_every_entry_point(
    vignette: Vignette, entry_points: EntryPoints, capsys: pytest.CaptureFixture[str]
) -> None:
    """CLI, API (document), bulk screening and CDS Hooks read the same Bundle alike."""
    bundle = _bundle(vignette.record)
    line = PatientLines("", (Line("export.ndjson", 1, orjson.dumps(bundle)),), is_bundle=True)
    bulk = orjson.loads(record_screener(ON).screen(line).output)
    seen = {
        "cli": _seen(entry_points.cli(bundle, capsys)),
        "api": _seen(entry_points.api({"document": bundle})),
        "bulk": _seen(bulk),
    }
    outcome, rules, _ = seen["cli"]
    assert (outcome, rules) == (vignette.record_outcome, vignette.record_rules)
    assert set(seen.values()) == {seen["cli"]}, seen
    cds_outcome, summary = entry_points.cds(vignette.record)
    assert cds_outcome == outcome
    for finding in bulk["findings"]:
        assert str(finding["category"]).replace("_", " ") in summary
