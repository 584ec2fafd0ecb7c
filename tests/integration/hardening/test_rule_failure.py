"""A rule that raises in the running service: the stored decision fails closed, the screening
page shows the failure, and the audit trail and the log name the rule (and nothing else)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

import pytest

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.conditions import Facts, Truth
from mesoscreen.services.screening import ScreeningService
from tests.factories import eligible_answers, seed_clinic
from tests.integration.api.conftest import bearer
from tests.integration.api.records import new_screening, ok
from tests.integration.web.conftest import new_browser, sign_in

BROKEN_RULE = "cancer_history"


class _Raising:
    """A rule condition with a fault in it."""

    def __init__(self, reads: frozenset[str]) -> None:
        self.reads = reads

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """Fails as a broken rule would."""
        raise ValueError("a fault inside the rule")

    def facts(self) -> frozenset[str]:
        """The facts the intact rule reads."""
        return self.reads


@pytest.fixture
def broken_services(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """The services with one rule of the knowledge base raising whenever it is evaluated."""
    intact = services.screening
    rules = tuple(
        replace(rule, when=_Raising(rule.when.facts())) if rule.id == BROKEN_RULE else rule
        for rule in intact.kb.rules
    )
    broken = ScreeningService(intact.kb, intact.policy, rules=rules)
    monkeypatch.setattr(services.screenings, "screening", broken)
    return services


def test_a_failing_rule_is_stored_shown_and_audited_never_eligible(
    broken_services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """An intake that would be eligible is stored as incomplete with the error finding; the
    page shows the rule could not be evaluated; the audit entry and a warning name the rule."""
    services = broken_services
    staff = seed_clinic(services.accounts)
    caplog.set_level(logging.WARNING, logger="mesoscreen")
    with new_browser(services) as browser:
        headers = bearer(browser, staff.users[Role.CLINICIAN])
        family = "Quellbrandt"
        body = {"clinic_id": staff.clinic.id, "family_name": family, "given_name": "Ysolde"}
        patient = ok(browser.post("/api/v1/patients", headers=headers, json=body), 201)
        screening = new_screening(browser, headers, patient["id"], eligible_answers())

        assert screening["outcome"] == "incomplete"
        errors = [f for f in screening["decision"]["findings"] if f["category"] == "rule_error"]
        assert [(f["rule"], f["error"]) for f in errors] == [(BROKEN_RULE, "ValueError")]

        sign_in(browser, staff, Role.CLINICIAN)
        page = browser.get(f"/screenings/{screening['id']}")
        assert page.status_code == 200
        assert "This rule could not be evaluated" in page.text

    entry = next(
        stored.entry
        for stored in services.audit.all_entries()
        if stored.entry.event_type == "screening.create"
        and stored.entry.entity_id == screening["id"]
    )
    assert dict(entry.detail) == {"rule_errors": BROKEN_RULE}
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(screening["id"] in line and BROKEN_RULE in line for line in warnings), warnings
    assert not any(family in line for line in warnings)


def test_a_screening_with_every_rule_intact_has_no_rule_errors_in_its_audit_entry(
    services: Services,
) -> None:
    """The audit detail appears only when a rule failed."""
    staff = seed_clinic(services.accounts)
    with new_browser(services) as browser:
        headers = bearer(browser, staff.users[Role.CLINICIAN])
        body = {"clinic_id": staff.clinic.id, "family_name": "Intact", "given_name": "A"}
        patient = ok(browser.post("/api/v1/patients", headers=headers, json=body), 201)
        screening = new_screening(browser, headers, patient["id"], eligible_answers())
    assert screening["outcome"] == "eligible"
    entry = next(
        stored.entry
        for stored in services.audit.all_entries()
        if stored.entry.entity_id == screening["id"]
    )
    assert "rule_errors" not in entry.detail
