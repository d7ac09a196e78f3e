"""SQL queries per page: a fixed number, whatever the amount of data, and within the speed issue's ceilings.

Each test counts a page's queries on a small clinic, adds many more rows of what the page
reads (appointments, patients, staff), and counts again: a page whose queries grow with the
data, or pass the ceiling, fails here before it is slow at ten times the data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.booking.day_grid import COLUMNS_PER_PAGE
from clinic.models import Appointment, AppointmentType, Location, Patient, Room, User
from clinic.roles import Role
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 08:00 in London
TUESDAY = date(2026, 3, 3)

# The fixed cost of any signed-in page: the session, then the person with their permissions,
# roles and locations (clinic.backends.signed_in_users), then the second factor's device.
FIXED = 3
# (after pghistory's context, when one is set)
SAVEPOINT = re.compile(r"(^|; )(RELEASE |ROLLBACK TO )?SAVEPOINT \"")
# Ceilings (issue 17), each the page's own work plus FIXED.
CEILINGS = {
    "trivial": FIXED,
    # 8 measured: staff (or rooms), the shown columns' appointments, the day's counters, the
    # worklist's plan sessions and reschedule requests, the access-event INSERT (one of room).
    "day_schedule": FIXED + 6,
    "day_schedule_by_room": FIXED + 6,
    "patient_search": FIXED + 2,  # the search, the access-event INSERT
    # The patient, the access-event INSERT, the upcoming and past appointments, the panels'
    # consultations, plans (sessions booked counted in SQL) and messages (with check-ins and
    # replies): 10. The record issue's timeline adds 4 fixed ones: its messages, its link clicks
    # (replies and unsubscribes), its appointments and their status changes (one prefetch).
    "patient_record": 14,
    "booking_post": 10,  # 9 measured
}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def central() -> Location:
    return LocationFactory(name="Central", time_zone="Europe/London")


@pytest.fixture
def consultation() -> AppointmentType:
    return AppointmentTypeFactory(name="Consultation")


@pytest.fixture
def desk(client: Client, front_desk: User, central: Location) -> Client:
    front_desk.locations.add(central)
    client.force_login(front_desk)
    client.get("/front-desk/")  # a warm session, as for a desk mid-morning
    return client


def at(hour: int, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LocationFactory(name="Central").zone)


def count(request: Callable[[], object]) -> int:
    """The queries ``request`` makes as in production: its after-commit work (the booking's
    messages) included, the savepoints that only the test's own transaction causes left out."""
    with CaptureQueriesContext(connection) as captured, TestCase.captureOnCommitCallbacks(execute=True):
        request()
    return sum(1 for query in captured.captured_queries if not SAVEPOINT.search(query["sql"]))


def practitioner(n: int, central: Location) -> tuple[User, Room]:
    person = UserFactory(username=f"spec{n}", first_name=f"Spec{n}", last_name="Lind", role=Role.SPECIALIST)
    StaffScheduleFactory.every_day(staff=person, location=central)
    return person, RoomFactory(location=central, name=f"Room {n}")


def grow(central: Location, consultation: AppointmentType, patient: Patient, *, start: int, staff: int) -> None:
    """More of everything the pages read: practitioners, rooms, patients, appointments on the day
    and the patient's history."""
    for n in range(start, start + staff):
        person, room = practitioner(n, central)
        for hour in range(9, 17):
            AppointmentFactory(
                practitioner=person, room=room, start=at(hour), appointment_type=consultation, patient=patient
            )
        for days in range(1, 4):
            AppointmentFactory(
                practitioner=person,
                room=room,
                start=at(10, TUESDAY - timedelta(weeks=days)),
                appointment_type=consultation,
                patient=patient,
            )
        PatientFactory.create_batch(5, first_name="Anna")


@pytest.mark.urls("bench.urls")
def test_a_signed_in_page_that_needs_nothing_else_costs_three_queries(desk: Client) -> None:
    assert count(lambda: desk.get("/bench/trivial/")) <= CEILINGS["trivial"]


@pytest.mark.parametrize(
    ("page", "path"),
    [
        ("day_schedule", f"/front-desk/?date={TUESDAY.isoformat()}"),
        ("day_schedule_by_room", f"/front-desk/?date={TUESDAY.isoformat()}&by=room"),
        ("patient_search", "/patients/?q=ann+sm"),
        ("patient_record", "{patient}"),
    ],
)
def test_a_staff_page_needs_the_same_queries_at_any_amount_of_data(
    desk: Client, central: Location, consultation: AppointmentType, page: str, path: str
) -> None:
    patient = PatientFactory(first_name="Anna", last_name="Smith")
    grow(central, consultation, patient, start=0, staff=1)
    url = path.format(patient=reverse("clinic:patient_detail", args=[patient.pk]))
    headers = {"HX-Request": "true"} if page == "patient_search" else {}

    def get() -> None:
        assert desk.get(url, headers=headers).status_code == 200

    small = count(get)
    # Past one page of the grid's columns: a large location's day is several pages.
    grow(central, consultation, patient, start=1, staff=COLUMNS_PER_PAGE)
    large = count(get)
    assert (small, large) == (small, small), f"{page}: {small} queries with little data, {large} with more"
    assert small <= CEILINGS[page], f"{page}: {small} queries, the ceiling is {CEILINGS[page]}"


def test_the_booking_post_needs_at_most_ten_queries_at_any_amount_of_data(
    desk: Client, central: Location, consultation: AppointmentType
) -> None:
    patient = PatientFactory(first_name="Anna", last_name="Smith")
    grow(central, consultation, patient, start=0, staff=1)
    person, room = User.objects.get(username="spec0"), Room.objects.get(name="Room 0")

    def book(hour: int) -> Callable[[], None]:
        start = at(hour, TUESDAY + timedelta(days=7)).isoformat()
        return lambda: post(start)

    def post(start: str) -> None:
        response = desk.post(
            f"/patients/{patient.pk}/book/",
            {
                "appointment_type": consultation.pk,
                "practitioner": person.pk,
                "room": room.pk,
                "start": start,
            },
        )
        assert response.status_code == 302, response.content.decode()[:500]

    count(book(13))  # the first booking ever also writes the standard message templates (on commit)
    small = count(book(9))
    grow(central, consultation, patient, start=1, staff=4)
    large = count(book(11))
    assert Appointment.objects.filter(start__gte=at(0, TUESDAY + timedelta(days=7))).count() == 3
    assert (small, large) == (small, small), f"{small} queries with little data, {large} with more"
    assert small <= CEILINGS["booking_post"], f"{small} queries, the ceiling is {CEILINGS['booking_post']}"


@pytest.mark.parametrize("stale", ["practitioner", "appointment_type", "room"])
def test_a_booking_naming_an_inactive_choice_is_refused_though_read_in_one_query(
    desk: Client, central: Location, consultation: AppointmentType, stale: str
) -> None:
    patient = PatientFactory()
    person, room = practitioner(0, central)
    rows: dict[str, User | AppointmentType | Room] = {
        "practitioner": person,
        "appointment_type": consultation,
        "room": room,
    }
    type(rows[stale]).objects.filter(pk=rows[stale].pk).update(is_active=False)
    response = desk.post(
        f"/patients/{patient.pk}/book/",
        {**{name: row.pk for name, row in rows.items()}, "start": at(9, TUESDAY + timedelta(days=7)).isoformat()},
    )
    assert response.status_code == 400
    assert "Choose a time" in response.content.decode()
    assert not Appointment.objects.filter(patient=patient).exists()
