from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinic.models import AppointmentStatus
from clinic.roles import Role
from reports import summaries
from reports.views import SPECS
from tests.e2e.conftest import axe_violations
from tests.e2e.test_sign_in import sign_in
from tests.factories import (
    ConsultationFactory,
    ExtractionTypeFactory,
    PatientFactory,
    TreatmentPlanFactory,
    UserFactory,
)
from tests.reports.scene import appointment, cancel, lot, march, review, signed_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _clinic_in_march() -> dict[str, Any]:
    manager = UserFactory(username="mgr", first_name="Mia", last_name="Grant", role=Role.MANAGER)
    patient = PatientFactory(first_name="Nora", last_name="Quinn")
    appointment(patient, march(2))
    late = appointment(PatientFactory(), march(3), status=AppointmentStatus.CANCELLED, cancel_reason="Ill")
    cancel(late, hours_before=2, by=manager)
    appointment(patient, march(9), appointment_type=ExtractionTypeFactory(), status=AppointmentStatus.NO_SHOW)
    consultation = ConsultationFactory(
        recommended=True, signed_at=march(4, 11), appointment__start=march(4), appointment__status="completed"
    )
    plan = TreatmentPlanFactory(consultation=consultation, sessions_planned=1, consented_at=march(5))
    signed_session(plan=plan, number=1, start=march(10), product_lot=lot("BP-7"))
    review(plan, decided_at=march(25), present={"forehead": {"papules": 2}}, iga=1)
    summaries.refresh_summaries()  # as beat would: the outcome and overdue figures read them
    return {"plan": plan}


def test_the_manager_opens_filters_drills_into_and_exports_each_report(page: Page, live_server: object) -> None:
    _clinic_in_march()
    base = str(live_server)
    sign_in(page, base, "mgr")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    slugs = list(SPECS)
    assert slugs == ["appointments", "utilisation", "funnel", "rebooking", "aftercare", "outcomes", "adverse"]
    for slug in slugs:
        spec = SPECS[slug]
        page.goto(f"{base}/reports/")
        page.get_by_role("link", name=str(spec.title), exact=False).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(str(spec.title))
        expect(page.locator("[data-definition]")).to_have_text(str(spec.definition))
        page.get_by_label("Period").select_option("custom")
        page.get_by_label("From").fill("2026-03-01")
        page.get_by_label("Until (inclusive)").fill("2026-03-31")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_text("From 1 Mar 2026 to 31 Mar 2026")).to_be_visible()
        assert page.locator("figure svg.chart-svg").count() == 1  # the server-drawn chart
        assert axe_violations(page) == [], slug
        with page.expect_download() as download:
            page.get_by_role("link", name="Export CSV").click()
        assert download.value.suggested_filename == f"{slug}-2026-03-01-2026-03-31.csv"
        # Drill down: the first figure that links to records.
        page.locator("table.report-table a[href*='/records/']").first.click()
        expect(page.get_by_role("link", name="Back to the report")).to_be_visible()
        assert page.locator("table.report-table tbody tr").count() >= 1
        assert axe_violations(page) == [], f"{slug} records"
        page.get_by_role("link", name="Back to the report").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(str(spec.title))


def test_the_manager_sees_the_late_cancellation_behind_the_figure(page: Page, live_server: object) -> None:
    _clinic_in_march()
    base = str(live_server)
    sign_in(page, base, "mgr")
    page.goto(f"{base}/reports/appointments/?preset=custom&start=2026-03-01&end=2026-03-31")
    page.locator("[data-figure='3'] a").click()  # the late cancellations figure
    expect(page.get_by_role("heading", level=1)).to_have_text("Appointments")
    assert page.locator("table.report-table tbody tr").count() == 1
    expect(page.get_by_text("Cancelled")).to_be_visible()


def test_a_specialist_runs_a_lot_recall_and_exports_it(page: Page, live_server: object) -> None:
    scene = _clinic_in_march()
    UserFactory(username="spec", role=Role.SPECIALIST)
    base = str(live_server)
    sign_in(page, base, "spec")
    page.get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcomes")
    page.goto(f"{base}/reports/recall/")
    page.get_by_label("Product lot").select_option(label="Benzoyl peroxide 2.5% gel · BP-7")
    page.get_by_role("button", name="Show sessions").click()
    expect(page.get_by_text(scene["plan"].patient.full_name)).to_be_visible()
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename == "recall-BP-7.csv"
