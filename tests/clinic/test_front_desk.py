"""The front desk's pages: the day schedule, booking by clicking a slot, actions from the grid."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic import demo
from clinic.models import Appointment, AppointmentStatus, Location, Patient, StaffSchedule, User
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


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def central() -> Location:
    return LocationFactory(name="Central", time_zone="Europe/London")


@pytest.fixture
def sara(central: Location) -> User:
    person = UserFactory(username="sara", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    StaffScheduleFactory.every_day(staff=person, location=central)
    return person


@pytest.fixture
def desk(client: Client, front_desk: User) -> Client:
    client.force_login(front_desk)
    return client


def at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LocationFactory(name="Central").zone)


def test_the_day_schedule_shows_each_appointment_in_its_practitioners_column(
    desk: Client, central: Location, sara: User
) -> None:
    AppointmentFactory(practitioner=sara, room=RoomFactory(location=central), start=at(10))
    response = desk.get("/front-desk/", {"date": TUESDAY.isoformat()})
    assert response.status_code == 200
    grid = response.context["grid"]
    assert [c.label for c in grid.columns] == ["Sara Lind"]
    placed = [(row.start, cell) for row in grid.rows for cell in row.cells if cell and cell.appointment]
    assert len(placed) == 1
    assert placed[0][0] == at(10)
    assert placed[0][1].rowspan == 3  # 45 minutes in 15-minute rows
    assert "status-booked" in response.content.decode()


def test_the_day_schedule_switches_to_a_column_per_room(desk: Client, central: Location, sara: User) -> None:
    RoomFactory(location=central, name="Room 1")
    RoomFactory(location=central, name="Room 2")
    response = desk.get("/front-desk/", {"date": TUESDAY.isoformat(), "by": "room"})
    assert [c.label for c in response.context["grid"].columns] == ["Room 1", "Room 2"]


def test_the_day_schedule_needs_the_same_queries_for_few_or_many_appointments(
    desk: Client, central: Location, sara: User
) -> None:
    rooms = [RoomFactory(location=central, name=f"Room {n}") for n in range(4)]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert desk.get("/front-desk/", {"date": TUESDAY.isoformat()}).status_code == 200
        return len(captured)

    AppointmentFactory(practitioner=sara, room=rooms[3], start=at(9))
    few = queries()
    for n in range(3):
        other = UserFactory(username=f"spec{n}", role=Role.SPECIALIST)
        StaffScheduleFactory(staff=other, location=central, weekday=TUESDAY.weekday())
        for hour in range(9, 16):
            AppointmentFactory(practitioner=other, room=rooms[n], start=at(hour))
    assert queries() == few
    # 11: the second factor's device and the access-event INSERT (the audit of who saw which
    # patients) joined the page's fixed cost; the per-request cost is the speed issue's to cut.
    # 12: the worklist's open reschedule requests (one query, whatever their number).
    assert few <= 12


def test_checking_in_from_the_grid_swaps_just_the_card(desk: Client, central: Location, sara: User) -> None:
    # Check-in is possible on the appointment's day: this one is at 10:00 today.
    appointment = AppointmentFactory(
        practitioner=sara, room=RoomFactory(location=central), start=at(10, day=NOW.date())
    )
    response = desk.post(
        f"/appointments/{appointment.pk}/status/", {"status": "checked_in"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="appointment-{appointment.pk}"' in body
    assert "Checked in" in body
    assert 'hx-swap-oob="true"' in body  # the toast comes along
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN


def test_cancelling_from_the_grid_takes_the_reason_from_the_prompt(desk: Client, central: Location) -> None:
    appointment = AppointmentFactory(room=RoomFactory(location=central))
    desk.post(f"/appointments/{appointment.pk}/cancel/", headers={"HX-Request": "true", "HX-Prompt": "Unwell"})
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == (AppointmentStatus.CANCELLED, "Unwell")


def test_cancelling_without_a_reason_changes_nothing(desk: Client, central: Location) -> None:
    appointment = AppointmentFactory(room=RoomFactory(location=central))
    response = desk.post(f"/appointments/{appointment.pk}/cancel/", {"reason": " "})
    assert response.status_code == 400
    assert "reason" in response.context["cancel_form"].errors
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_a_refused_status_change_is_a_message_not_an_error(desk: Client, central: Location) -> None:
    appointment = AppointmentFactory(room=RoomFactory(location=central), status=AppointmentStatus.COMPLETED)
    response = desk.post(f"/appointments/{appointment.pk}/status/", {"status": "no_show"}, follow=True)
    assert response.status_code == 200
    assert "cannot be marked" in response.content.decode()


def test_the_booking_page_lists_free_slots_and_books_the_one_clicked(
    desk: Client, central: Location, sara: User
) -> None:
    room = RoomFactory(location=central, name="Room 1")
    consultation = AppointmentTypeFactory()
    patient = PatientFactory()
    response = desk.get(
        f"/patients/{patient.pk}/book/",
        {"appointment_type": consultation.pk, "practitioner": "", "day": TUESDAY.isoformat()},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    slots = response.context["slots"]
    assert slots[0].start == at(9)
    assert 'name="start"' in response.content.decode()
    response = desk.post(
        f"/patients/{patient.pk}/book/",
        {
            "appointment_type": consultation.pk,
            "practitioner": sara.pk,
            "room": room.pk,
            "start": at(9).isoformat(),
        },
    )
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/appointments/{appointment.pk}/"
    assert (appointment.patient, appointment.start) == (patient, at(9))


def test_a_clash_is_a_form_error_offering_the_nearest_free_slots(desk: Client, central: Location, sara: User) -> None:
    room = RoomFactory(location=central, name="Room 1")
    consultation = AppointmentTypeFactory()
    AppointmentFactory(practitioner=sara, room=room, start=at(10), appointment_type=consultation)
    patient = PatientFactory()
    response = desk.post(
        f"/patients/{patient.pk}/book/",
        {
            "appointment_type": consultation.pk,
            "practitioner": sara.pk,
            "room": room.pk,
            "start": at(10, 15).isoformat(),
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "already booked" in body
    nearest = response.context["nearest"]
    assert [s.start for s in nearest] == [at(9, 15), at(10, 45), at(11)]
    assert Appointment.objects.count() == 1


def test_a_tampered_slot_is_a_message_not_a_500(desk: Client, central: Location) -> None:
    patient = PatientFactory()
    response = desk.post(f"/patients/{patient.pk}/book/", {"start": "not a time"})
    assert response.status_code == 400
    assert "Choose a time" in response.content.decode()


def test_moving_an_appointment_keeps_its_history(desk: Client, central: Location, sara: User) -> None:
    room = RoomFactory(location=central, name="Room 1")
    appointment = AppointmentFactory(practitioner=sara, room=room, start=at(10))
    response = desk.post(
        f"/appointments/{appointment.pk}/move/",
        {
            "appointment_type": appointment.appointment_type_id,
            "practitioner": sara.pk,
            "room": room.pk,
            "start": at(10, 15).isoformat(),
        },
    )
    assert response.status_code == 302
    detail = desk.get(f"/appointments/{appointment.pk}/").content.decode()
    assert "Moved from 3 Mar 10:00 to 3 Mar 10:15" in detail


def test_the_week_view_and_day_sheet_list_the_days_appointments(desk: Client, central: Location) -> None:
    patient = PatientFactory(first_name="Anna", last_name="Smith")
    AppointmentFactory(patient=patient, room=RoomFactory(location=central), start=at(10))
    week = desk.get("/front-desk/week/", {"date": TUESDAY.isoformat()})
    assert "Anna Smith" in week.content.decode()
    sheet = desk.get("/front-desk/day-sheet/", {"date": TUESDAY.isoformat()})
    assert "Anna Smith" in sheet.content.decode()
    assert "data-print" in sheet.content.decode()


def test_a_manager_sets_working_hours_and_overlaps_are_refused(
    client: Client, manager: User, central: Location
) -> None:
    client.force_login(manager)
    person = UserFactory(username="amira", role=Role.AESTHETICIAN)
    data = {"staff": person.pk, "location": central.pk, "weekday": 0, "start_time": "09:00", "end_time": "13:00"}
    assert client.post("/clinic/setup/working-hours/new/", data).status_code == 302
    response = client.post("/clinic/setup/working-hours/new/", {**data, "start_time": "12:00", "end_time": "17:00"})
    assert response.status_code == 400
    assert "overlap" in response.content.decode()
    assert StaffSchedule.objects.count() == 1


def test_rooms_are_switched_off_not_deleted(client: Client, manager: User, central: Location) -> None:
    client.force_login(manager)
    room = RoomFactory(location=central)
    assert client.post(f"/clinic/setup/rooms/{room.pk}/delete/").status_code == 404


def test_the_demo_data_loads_twice_without_adding_anything() -> None:
    first = demo.seed()
    assert first["appointments"] > 0
    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert statuses == set(AppointmentStatus.values)
    counts = (Appointment.objects.count(), Patient.objects.count(), StaffSchedule.objects.count())
    second = demo.seed()
    assert sum(second.values()) == 0
    assert (Appointment.objects.count(), Patient.objects.count(), StaffSchedule.objects.count()) == counts
