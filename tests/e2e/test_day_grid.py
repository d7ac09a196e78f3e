"""The day grid by pointer: click a free slot to book it, drag a card to move it (and see a
refusal snap back), and the counters following a check-in without a reload."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from clinic.models import Appointment, Location, User
from clinic.roles import Role
from tests.e2e.test_front_desk_flow import settled_axe
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


def clinic() -> tuple[Location, User]:
    central = LocationFactory(name="Central", time_zone="Europe/London")
    RoomFactory(location=central, name="Room 1")
    AppointmentTypeFactory(name="Free consultation")
    sara = UserFactory(username="sara", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    # Works around the clock every day, so any day has free times whatever the hour.
    StaffScheduleFactory.every_day(staff=sara, location=central, start_time=time(0, 0), end_time=time(23, 59))
    UserFactory(username="desk", first_name="Fiona", last_name="Desk", role=Role.FRONT_DESK)
    return central, sara


def slot(page: Page, at: str, column: int) -> Locator:
    return page.locator(f'tr[data-time="{at}"] td.schedule-free[data-col="{column}"]')


def test_clicking_a_free_slot_books_it_with_practitioner_and_time_filled_in(page: Page, live_server: object) -> None:
    central, sara = clinic()
    PatientFactory(first_name="Nora", last_name="Quinn")
    tomorrow = central.today() + timedelta(days=1)
    base = str(live_server)
    sign_in(page, base, "desk")
    page.goto(f"{base}/front-desk/?date={tomorrow.isoformat()}")

    slot(page, "10:00", sara.pk).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book this slot")
    expect(page.get_by_test_id("clicked-slot")).to_contain_text("10:00")
    expect(page.get_by_test_id("clicked-slot")).to_contain_text("Sara Lind")
    page.get_by_label("Find a patient").fill("Nora")
    found = page.get_by_role("link", name="Book for Nora Quinn")
    expect(found).to_be_visible()
    assert settled_axe(page) == []
    found.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment")
    clicked = page.get_by_test_id("clicked-slots").get_by_role("button")
    expect(clicked).to_have_count(1)
    expect(clicked).to_contain_text("10:00")
    expect(clicked).to_contain_text("Sara Lind · Room 1")
    assert settled_axe(page) == []
    clicked.click()

    expect(page.get_by_role("status").filter(has_text="Booked Nora Quinn")).to_be_visible()
    booked = Appointment.objects.get()
    assert (central.local(booked.start).date(), central.local(booked.start).time()) == (tomorrow, time(10, 0))
    assert booked.practitioner == sara


def test_dragging_a_card_moves_it_and_a_refused_move_snaps_back_with_the_reason(
    page: Page, live_server: object
) -> None:
    central, sara = clinic()
    tomorrow = central.today() + timedelta(days=1)
    room = RoomFactory(location=central, name="Room 1")
    nora = PatientFactory(first_name="Nora", last_name="Quinn")
    moving = AppointmentFactory(
        patient=nora, practitioner=sara, room=room, start=datetime.combine(tomorrow, time(10), tzinfo=central.zone)
    )
    AppointmentFactory(practitioner=sara, room=room, start=datetime.combine(tomorrow, time(14), tzinfo=central.zone))
    base = str(live_server)
    sign_in(page, base, "desk")
    page.goto(f"{base}/front-desk/?date={tomorrow.isoformat()}")
    page.evaluate("window.__sameDocument = true")

    card = page.locator(f"#appointment-{moving.pk}")
    card.drag_to(slot(page, "12:00", sara.pk))
    expect(page.locator(f'tr[data-time="12:00"] #appointment-{moving.pk}')).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Nora Quinn moved to")).to_be_visible()
    moving.refresh_from_db()
    assert central.local(moving.start).time() == time(12)

    # 13:30–14:15 runs into the 14:00 appointment: the server refuses, the card stays at 12:00.
    page.locator(f"#appointment-{moving.pk}").drag_to(slot(page, "13:30", sara.pk))
    expect(page.get_by_role("alert").filter(has_text="Not moved")).to_be_visible()
    expect(page.locator(f'tr[data-time="12:00"] #appointment-{moving.pk}')).to_be_visible()
    moving.refresh_from_db()
    assert central.local(moving.start).time() == time(12)
    assert page.evaluate("window.__sameDocument") is True, "moved in place, no reload"
    assert settled_axe(page) == []


def test_the_status_counters_follow_a_check_in_without_a_reload(page: Page, live_server: object) -> None:
    central, sara = clinic()
    now = central.local(timezone.now())
    # This quarter-hour, today: check-in is possible on the appointment's day.
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    nora = PatientFactory(first_name="Nora", last_name="Quinn")
    AppointmentFactory(patient=nora, practitioner=sara, room=RoomFactory(location=central, name="Room 1"), start=start)
    base = str(live_server)
    sign_in(page, base, "desk")
    page.goto(f"{base}/front-desk/")
    counts = page.get_by_role("group", name="Appointments by status")
    expect(counts).to_have_text("Booked: 1")
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("button", name="Check in Nora Quinn").click()
    expect(counts).to_have_text("Checked in: 1")
    assert page.evaluate("window.__sameDocument") is True, "the counters updated in place"
    assert settled_axe(page) == []


def test_the_manager_reads_the_day_week_and_day_sheet(page: Page, live_server: object) -> None:
    central, sara = clinic()
    tomorrow = central.today() + timedelta(days=1)
    nora = PatientFactory(first_name="Nora", last_name="Quinn")
    AppointmentFactory(
        patient=nora,
        practitioner=sara,
        room=RoomFactory(location=central, name="Room 1"),
        start=datetime.combine(tomorrow, time(10), tzinfo=central.zone),
    )
    UserFactory(username="mgr", first_name="Maya", last_name="Manager", role=Role.MANAGER)
    base = str(live_server)
    sign_in(page, base, "mgr")
    page.get_by_role("link", name="Schedule").click()
    page.get_by_role("link", name="Next day").click()
    expect(page.locator(".appointment-card", has_text="Nora Quinn")).to_be_visible()
    expect(page.get_by_role("button", name="Check in Nora Quinn")).to_have_count(0)
    assert settled_axe(page) == []
    page.get_by_role("link", name="Week").click()
    expect(page.get_by_role("link", name="10:00 Nora Quinn")).to_be_visible()
    assert settled_axe(page) == []
    page.goto(f"{base}/front-desk/day-sheet/?date={tomorrow.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Day sheet")
    expect(page.get_by_role("cell", name="Nora Quinn")).to_be_visible()
    assert settled_axe(page) == []
