"""At phone width: a new patient books online, confirms from the email, then moves the
appointment from the next email; a waitlisted patient accepts a freed slot."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect

from clinic.booking.services import appointment_cancel
from clinic.models import Appointment, AppointmentStatusChange, Location
from clinic.roles import Role
from online import services
from online.models import WaitlistEntry
from tests.e2e.conftest import axe_violations
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    UserFactory,
)
from tests.online.conftest import link_in, sent_emails

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _open_clinic() -> tuple[Location, object]:
    services.online_user()  # the flush removed the migration's row
    location = LocationFactory(name="Central", phone="+441234567890")
    specialist = UserFactory(username="spec", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    StaffScheduleFactory.every_day(staff=specialist, location=location, start_time=time(9), end_time=time(17))
    RoomFactory(location=location, name="Room 1")
    AppointmentTypeFactory()
    return location, specialist


def _link(containing: str) -> str:
    # The emails go through the outbox: its dispatcher sends them, as beat would.
    for email in reversed(sent_emails()):
        if containing in email.body:
            return link_in(email, containing)
    raise AssertionError(f"no email with {containing}")


def test_a_new_patient_books_confirms_and_moves_the_appointment_from_the_emails(
    page: Page, live_server: object
) -> None:
    _open_clinic()
    base = str(live_server)
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/book/central/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a free consultation")
    assert axe_violations(page) == []
    page.locator("section").nth(2).locator("a.online-slot").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Date of birth").fill("1990-05-17")
    page.locator("#id_email").fill("ada@example.com")
    page.get_by_label("Phone").fill("07700 900123")
    page.get_by_label("You may email me about my appointments").check()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Hold this time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert axe_violations(page) == []

    page.goto(base + _link("/o/confirm/"))
    page.get_by_role("button", name="Confirm my booking").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are booked")
    assert axe_violations(page) == []
    booked = Appointment.objects.get()
    first_start = booked.start

    page.goto(base + _link("/o/appointment/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Choose another time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose another time")
    assert axe_violations(page) == []
    page.locator("button.online-slot").nth(3).click()
    expect(page.get_by_role("status")).to_contain_text("has been moved")
    booked.refresh_from_db()
    assert booked.start != first_start
    change = AppointmentStatusChange.objects.get(appointment=booked)
    assert (change.by.username, change.old_start) == ("patient-online", first_start)


def test_a_waitlisted_patient_accepts_a_freed_slot(page: Page, live_server: object) -> None:
    location, specialist = _open_clinic()
    patient = PatientFactory(first_name="Grace", email="grace@example.com")
    today = location.today()
    WaitlistEntry.objects.create(
        patient=patient,
        appointment_type=AppointmentTypeFactory(),
        location=location,
        earliest_time=time(9),
        latest_time=time(17),
        earliest_date=today,
        latest_date=today + timedelta(days=30),
    )
    taken = AppointmentFactory(
        practitioner=specialist,
        room=RoomFactory(location=location, name="Room 1"),
        start=services.public_days(location=location, appointment_type=AppointmentTypeFactory(), days=5)[-1][1][
            0
        ].start,
    )
    appointment_cancel(acting_user=UserFactory(username="desk", role=Role.FRONT_DESK), appointment=taken, reason="Ill")
    services.waitlist_offer_slot(appointment_id=taken.pk, start=taken.start)  # the offer job

    base = str(live_server)
    page.set_viewport_size(PHONE)
    page.goto(base + _link("/o/offer/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("A time has come free")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Take this time").click()
    expect(page.get_by_role("status")).to_contain_text("It is yours")
    assert axe_violations(page) == []
    won = Appointment.objects.holding_time().get(start=taken.start)
    assert won.patient == patient
