"""The outcome measures pages: a nurse records measurements, the patient's page draws the trend,
a bad value is shown back with the field named, and reception sees no chart."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.services.patients import PatientDetails
from tests.factories import ClinicStaff
from tests.integration.web.conftest import new_browser, sign_in


def _patient(services: Services, staff: ClinicStaff) -> str:
    details = PatientDetails(family_name="Le", given_name="Hoa")
    return services.patients.register(staff.principal(Role.RECEPTION), staff.clinic.id, details).id


def test_measurements_recorded_on_the_form_draw_a_trend_on_the_patient_page(
    browser: TestClient, services: Services, staff: ClinicStaff
) -> None:
    """Two counts give a density chart with two points and the normal band."""
    patient = _patient(services, staff)
    csrf = sign_in(browser, staff, Role.NURSE)
    for day, count in (("2026-09-01", "150"), ("2026-11-20", "182")):
        form = {"csrf": csrf, "measured_on": day, "hair_count": count, "area_cm2": "1",
                "shaft_thickness_um": "", "self_assessment": "1", "note": ""}  # fmt: skip
        response = browser.post(f"/patients/{patient}/outcomes", data=form, follow_redirects=False)
        assert response.status_code == 303, response.text
    page = browser.get(f"/patients/{patient}").text
    density = re.search(r'<svg[^>]*data-measure="density_per_cm2".*?</svg>', page, re.S)
    assert density is not None
    assert density.group(0).count('class="point"') == 2
    assert 'class="reference"' in density.group(0)
    assert "(+32 since the first measurement)" in density.group(0)
    assert 'data-measure="self_assessment"' in page
    assert 'data-measure="shaft_thickness_um"' not in page  # none measured: no chart
    table = browser.get(f"/patients/{patient}/outcomes").text
    assert "182" in table
    assert "Slightly better" in table


def test_a_bad_value_is_shown_back_with_the_field_named(
    browser: TestClient, services: Services, staff: ClinicStaff
) -> None:
    """A count without an area is refused with 400; the form keeps what was typed."""
    patient = _patient(services, staff)
    csrf = sign_in(browser, staff, Role.CLINICIAN)
    form = {"csrf": csrf, "measured_on": "2026-11-20", "hair_count": "150", "area_cm2": ""}
    response = browser.post(f"/patients/{patient}/outcomes", data=form)
    assert response.status_code == 400
    assert "area_cm2" in response.text
    assert 'value="150"' in response.text


def test_reception_sees_neither_the_chart_nor_the_measures(
    services: Services, staff: ClinicStaff
) -> None:
    """The patient page has no chart for reception, and the outcomes page is refused."""
    patient = _patient(services, staff)
    with new_browser(services) as nurse:
        csrf = sign_in(nurse, staff, Role.NURSE)
        form = {"csrf": csrf, "measured_on": "2026-11-20", "self_assessment": "2"}
        nurse.post(f"/patients/{patient}/outcomes", data=form, follow_redirects=False)
    with new_browser(services) as reception:
        sign_in(reception, staff, Role.RECEPTION)
        assert "trend-chart" not in reception.get(f"/patients/{patient}").text
        assert reception.get(f"/patients/{patient}/outcomes").status_code == 403
