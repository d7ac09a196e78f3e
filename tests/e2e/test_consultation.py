"""The specialist's consultation, from today's checked-in appointment to a plan the front desk books."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import AppointmentKind, AppointmentStatus, Location
from clinic.roles import Role
from consultations.models import Consultation, PlanSession, TreatmentPlan
from tests.e2e.conftest import axe_violations
from tests.e2e.test_sign_in import sign_in as sign_in_with_second_factor
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.context.clear_cookies()
    sign_in_with_second_factor(page, base_url, username)


def test_specialist_consults_and_plans_then_the_front_desk_books_session_one(page: Page, live_server: object) -> None:
    location: Location = LocationFactory(name="Central", time_zone="Europe/London")
    room = RoomFactory(location=location, name="Room 1")
    specialist = UserFactory(username="spec", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    UserFactory(username="desk", first_name="Fiona", last_name="Desk", role=Role.FRONT_DESK)
    aesthetician = UserFactory(username="amira", first_name="Amira", last_name="Cole", role=Role.AESTHETICIAN)
    StaffScheduleFactory.every_day(staff=aesthetician, location=location)
    AppointmentTypeFactory(
        name="Extraction session", kind=AppointmentKind.EXTRACTION, duration_minutes=60, performed_by=Role.AESTHETICIAN
    )
    patient = PatientFactory(first_name="Anna", last_name="Smith")
    AppointmentFactory(
        patient=patient,
        practitioner=specialist,
        room=room,
        start=timezone.now(),
        status=AppointmentStatus.CHECKED_IN,
    )
    base = str(live_server)
    # The app asks in its own dialog; the browser's confirm() would fail the test.
    page.on("dialog", lambda dialog: pytest.fail(f"the browser's own {dialog.type}() was used"))

    # The specialist opens today's checked-in consultation.
    sign_in(page, base, "spec")
    expect(page).to_have_url(f"{base}/consultations/")
    page.get_by_role("row", name="Anna Smith").get_by_role("button", name="Open consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultation: Anna Smith")

    # History.
    page.get_by_label("Current products and routine").fill("Gel cleanser, niacinamide, SPF 30")
    page.get_by_label("Weeks on this routine, consistently").fill("10")
    page.get_by_label("Medications").fill("None")

    # Analysis, with the counts entered from the face map.
    page.get_by_label("Fitzpatrick phototype").select_option("2")
    page.get_by_label("Skin type").select_option("combination")
    page.get_by_label("Barrier").select_option("intact")
    page.get_by_label("Sensitivity").select_option("normal")
    page.get_by_label("Congestion").select_option("widespread")
    page.get_by_label("Investigator's global assessment").select_option("2")
    page.get_by_role("link", name="Forehead").click()
    expect(page.get_by_label("Forehead: Open comedones (blackheads)")).to_be_focused()
    page.keyboard.type("6")
    page.keyboard.press("Tab")
    page.keyboard.type("25")
    page.get_by_role("link", name="Left cheek").click()
    page.get_by_label("Left cheek: Papules").fill("2")
    expect(page.locator("a.face-zone[data-zone=forehead]")).to_have_attribute("data-level", "1")
    expect(page.locator("a.face-zone[data-zone=left_cheek]")).to_have_attribute("data-level", "2")

    # The live decision.
    expect(page.get_by_test_id("gags-score")).to_have_text("6")  # forehead 2x1 + left cheek 2x2
    expect(page.get_by_test_id("rules-outcome")).to_have_text("Extraction recommended")
    # The rule's id is for audit: a tooltip, not text (issue 13).
    expect(page.locator('#decision-panel [data-rule-id="IND_PERSISTENT_WHITEHEADS"]')).to_have_attribute(
        "title", "Rule IND_PERSISTENT_WHITEHEADS"
    )
    expect(page.locator("#decision-panel")).not_to_contain_text("IND_PERSISTENT_WHITEHEADS")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Sign consultation").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign consultation").click()
    expect(page.get_by_role("heading", name="Extraction recommended")).to_be_visible()
    consultation = Consultation.objects.get(patient=patient)
    assert consultation.status == "signed"
    assert consultation.lesion_counts == {
        "forehead": {"open_comedones": 6, "closed_comedones": 25},
        "left_cheek": {"papules": 2},
    }
    # No treatment has stalled, so the blackheads are not "clogged pores hindering progress" (2026.2).
    assert consultation.rules_reasons == ["IND_PERSISTENT_WHITEHEADS", "IND_WIDESPREAD_CONGESTION"]
    assert axe_violations(page) == []

    # The treatment plan, with the patient's consent.
    page.get_by_role("link", name="Write treatment plan").click()
    page.get_by_label("Sessions planned").fill("4")
    page.get_by_label("Days between sessions").fill("21")
    page.get_by_label("Forehead").check()
    page.get_by_label("Home-care regimen").fill("Adapalene 0.1% three nights a week; SPF 50 daily.")
    page.get_by_label("Pause before each session").fill("Adapalene, 3 days before.")
    page.get_by_label("Resume after each session").fill("Adapalene, 3 days after.")
    page.locator("#id_goals").fill("Clear forehead congestion.")
    page.get_by_label("Patient's full name, typed by the patient").fill("Anna Smith")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save plan").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Treatment plan: Anna Smith")
    expect(page.get_by_text("0 of 4 sessions booked")).to_be_visible()
    plan = TreatmentPlan.objects.get(patient=patient)
    assert plan.is_consented
    assert plan.consent_name == "Anna Smith"

    # The front desk books session 1 from the plan.
    sign_in(page, base, "desk")
    page.get_by_role("link", name="Plans", exact=True).click()
    assert axe_violations(page) == []
    page.get_by_role("row", name="Anna Smith").get_by_role("link", name="Book next session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book session 1: Anna Smith")
    # The free-time finder opens at the plan's suggested day (tomorrow for a first session).
    tomorrow = location.today() + timedelta(days=1)
    expect(page.get_by_label("Day")).to_have_value(tomorrow.isoformat())
    page.get_by_label("Aesthetician").select_option(label="Amira Cole")
    ten = page.locator("#slots form button", has_text="10:00").first
    expect(ten).to_contain_text("Amira Cole · Room 1")
    assert axe_violations(page) == []
    ten.click()
    expect(page.get_by_text("1 of 4 sessions booked")).to_be_visible()
    session = PlanSession.objects.select_related("appointment").get(plan=plan)
    assert session.number == 1
    assert location.local(session.appointment.start).replace(tzinfo=None) == datetime.combine(tomorrow, time(10, 0))
    assert session.appointment.practitioner_id == aesthetician.pk
    assert axe_violations(page) == []
