"""A patient's "I need another time" lands on the front desk's worklist, with a count, until
someone moves or cancels the appointment or marks the request handled."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import time_machine
from django.test import Client

from aftercare import links
from aftercare.models import AppointmentReply, AppointmentReplyAnswer, Message, MessageKind
from aftercare.selectors import open_reschedule_requests
from clinic.booking.services import appointment_book, appointment_cancel, appointment_reschedule
from clinic.models import Appointment, User
from clinic.roles import Role
from tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 08:00 in London
FRIDAY = date(2026, 3, 6)


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def desk() -> User:
    return UserFactory(username="desk", role=Role.FRONT_DESK)


@pytest.fixture
def booked(desk: User, django_capture_on_commit_callbacks: Any) -> Appointment:
    with django_capture_on_commit_callbacks(execute=True):
        location = LocationFactory(name="Central", time_zone="Europe/London")
        specialist = UserFactory(username="sara", role=Role.SPECIALIST)
        StaffScheduleFactory.every_day(staff=specialist, location=location)
        return appointment_book(
            acting_user=desk,
            patient=PatientFactory(first_name="Anna", last_name="Berg", phone="+447700900123"),
            appointment_type=AppointmentTypeFactory(),
            practitioner=specialist,
            room=RoomFactory(location=location, name="Room 1"),
            start=datetime.combine(FRIDAY, time(14, 0), tzinfo=location.zone),
        )


def answer(client: Client, appointment: Appointment, reply: AppointmentReplyAnswer) -> None:
    reminder = Message.objects.get(source=f"appointment:{appointment.pk}", kind=MessageKind.BOOKING_REMINDER)
    assert client.post(links.booking_path(reminder.token, reply)).status_code == 200


def worklist(client: Client, desk: User) -> str:
    client.force_login(desk)
    page = client.get("/front-desk/").content.decode()
    return page[page.index('data-testid="calls-to-make"') :] if 'data-testid="calls-to-make"' in page else ""


def test_another_time_lands_on_the_worklist_with_a_count(client: Client, desk: User, booked: Appointment) -> None:
    assert worklist(client, desk) == ""
    answer(client, booked, AppointmentReplyAnswer.RESCHEDULE)
    section = worklist(client, desk)
    assert "Anna Berg" in section
    assert "Asked for another time" in section
    assert '<span class="badge text-bg-warning ms-1" data-testid="calls-count">1</span>' in section


def test_a_confirmation_does_not(client: Client, desk: User, booked: Appointment) -> None:
    answer(client, booked, AppointmentReplyAnswer.CONFIRM)
    assert open_reschedule_requests(booked.location) == []


def test_marking_it_handled_takes_it_off_and_records_who(client: Client, desk: User, booked: Appointment) -> None:
    answer(client, booked, AppointmentReplyAnswer.RESCHEDULE)
    [reply] = open_reschedule_requests(booked.location)
    client.force_login(desk)
    response = client.post(f"/aftercare/reschedule-requests/{reply.pk}/handled/", follow=True)
    assert response.status_code == 200
    assert "Handled: Anna Berg." in response.content.decode()
    reply.refresh_from_db()
    assert (reply.handled_by_id, reply.handled_at) == (desk.pk, NOW)
    assert open_reschedule_requests(booked.location) == []


def test_moving_the_appointment_takes_it_off(desk: User, client: Client, booked: Appointment) -> None:
    answer(client, booked, AppointmentReplyAnswer.RESCHEDULE)
    appointment_reschedule(
        acting_user=desk, appointment=booked, start=datetime.combine(FRIDAY, time(16, 0), tzinfo=booked.location.zone)
    )
    assert open_reschedule_requests(booked.location) == []


def test_cancelling_the_appointment_takes_it_off(desk: User, client: Client, booked: Appointment) -> None:
    answer(client, booked, AppointmentReplyAnswer.RESCHEDULE)
    assert len(open_reschedule_requests(booked.location)) == 1
    appointment_cancel(acting_user=desk, appointment=booked, reason="Will call back")
    assert open_reschedule_requests(booked.location) == []


def test_a_desk_at_another_location_cannot_mark_it(client: Client, booked: Appointment) -> None:
    answer(client, booked, AppointmentReplyAnswer.RESCHEDULE)
    elsewhere = UserFactory(username="north", role=Role.FRONT_DESK, locations=[LocationFactory(name="North")])
    client.force_login(elsewhere)
    reply = AppointmentReply.objects.get()
    assert client.post(f"/aftercare/reschedule-requests/{reply.pk}/handled/").status_code == 404
    reply.refresh_from_db()
    assert reply.handled_at is None
