"""A front-desk morning, by clicking: register a patient, book a consultation, check them in."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.roles import Role
from tests.e2e.conftest import axe_violations
from tests.e2e.test_sign_in import sign_in
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


def settled_axe(page: Page) -> list[dict[str, object]]:
    """axe once no toast is fading in (mid-fade colours are blended, so contrast would be misread)."""
    # (A string wait_for_function would be eval, which the page's CSP rightly refuses.)
    expect(page.locator(".toast.showing")).to_have_count(0)
    page.wait_for_timeout(300)  # Bootstrap's fade is 150 ms
    return axe_violations(page)


def this_quarter_hour() -> datetime:
    """The start of the current quarter hour: today's, already started, on the grid's rows."""
    now = timezone.now().replace(second=0, microsecond=0)
    return now - timedelta(minutes=now.minute % 15)


def test_front_desk_registers_books_and_checks_in_a_patient(page: Page, live_server: object) -> None:
    central = LocationFactory(name="Central", time_zone="Europe/London")
    room = RoomFactory(location=central, name="Room 1")
    consultation = AppointmentTypeFactory(name="Free consultation")
    specialist = UserFactory(username="sara", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    # Works around the clock every day, so tomorrow has free times whatever the hour.
    StaffScheduleFactory.every_day(staff=specialist, location=central, start_time=time(0, 0), end_time=time(23, 59))
    UserFactory(username="desk", first_name="Fiona", last_name="Desk", role=Role.FRONT_DESK)
    # A patient booked for now: today's, so the desk can check them in.
    AppointmentFactory(
        appointment_type=consultation,
        patient=PatientFactory(first_name="Omar", last_name="Reed"),
        practitioner=specialist,
        room=room,
        start=this_quarter_hour(),
    )
    base = str(live_server)

    sign_in(page, base, "desk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Front desk")
    assert settled_axe(page) == []

    page.get_by_role("link", name="Register patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a patient")
    assert settled_axe(page) == []
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Quinn")
    page.get_by_label("Date of birth").fill("1990-05-17")
    page.get_by_label("Email", exact=True).fill("nora.quinn@example.com")
    page.get_by_label("Phone", exact=True).fill("07700 900 555")
    page.get_by_label("Consents to email").check()
    page.locator("#patient-form").get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Nora Quinn")
    # Stored in E.164 (+447700900555), shown in the clinic region's national form.
    expect(page.get_by_text("07700 900555", exact=True)).to_be_visible()
    assert settled_axe(page) == []

    page.get_by_role("link", name="Book appointment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment")
    # Tomorrow: today may have no free time left late in the evening.
    tomorrow = central.today() + timedelta(days=1)
    page.get_by_label("Day").fill(tomorrow.isoformat())
    page.get_by_role("button", name="Find free times").click()
    first_slot = page.locator("#slots form button").first
    expect(first_slot).to_contain_text("Sara Lind")
    assert settled_axe(page) == []
    first_slot.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Free consultation")
    expect(page.get_by_role("status").filter(has_text="Booked Nora Quinn")).to_be_visible()
    assert settled_axe(page) == []

    # Back to the day schedule; check the patient in from the grid (no full reload).
    page.get_by_role("link", name="Front desk").click()
    page.get_by_role("link", name="Next day").click()
    expect(page.locator(".page-header")).to_contain_text(f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B %Y}")
    card = page.locator(".appointment-card", has_text="Nora Quinn")
    expect(card).to_contain_text("Booked")
    # Statuses follow time: tomorrow's patient cannot be checked in today, so the card offers
    # no Check in (the server refuses it too: tests/clinic/test_appointment_statuses.py).
    expect(card.get_by_role("button", name="Check in Nora Quinn")).to_have_count(0)
    expect(card.get_by_role("button", name="Cancel Nora Quinn")).to_be_visible()

    # Today's patient is checked in from the grid (no full reload).
    page.get_by_role("link", name="Previous day").click()
    card = page.locator(".appointment-card", has_text="Omar Reed")
    expect(card).to_contain_text("Booked")
    page.evaluate("window.__sameDocument = true")
    card.get_by_role("button", name="Check in Omar Reed").click()
    expect(card).to_contain_text("Checked in")
    assert page.evaluate("window.__sameDocument") is True, "the grid updated in place"
    expect(page.get_by_role("status").filter(has_text="Omar Reed: Checked in")).to_be_visible()
    assert settled_axe(page) == []
