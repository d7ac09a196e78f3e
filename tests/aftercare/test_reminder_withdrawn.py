"""No reminder for a patient already checked in, seen or marked a no-show: the status change
withdraws it, and the dispatcher checks again at send time (whatever changed the status)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import time_machine

from aftercare.dispatcher import dispatch_due
from aftercare.models import Message, MessageKind, MessageStatus
from clinic.booking.services import appointment_book, appointment_set_status
from clinic.models import Appointment, AppointmentStatus, User
from clinic.roles import Role
from tests.aftercare.smtp_sink import Sink
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
REMINDER_DUE = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # Thursday 10:00, the day before


@pytest.fixture
def desk() -> User:
    return UserFactory(username="desk", role=Role.FRONT_DESK)


@pytest.fixture
def booked(desk: User, django_capture_on_commit_callbacks: Any) -> Appointment:
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        location = LocationFactory(name="Central", time_zone="Europe/London")
        specialist = UserFactory(username="sara", role=Role.SPECIALIST)
        StaffScheduleFactory.every_day(staff=specialist, location=location)
        return appointment_book(
            acting_user=desk,
            patient=PatientFactory(first_name="Anna"),
            appointment_type=AppointmentTypeFactory(),
            practitioner=specialist,
            room=RoomFactory(location=location, name="Room 1"),
            start=datetime.combine(FRIDAY, time(14, 0), tzinfo=location.zone),
        )


def reminder(appointment: Appointment) -> Message:
    return Message.objects.get(source=f"appointment:{appointment.pk}", kind=MessageKind.BOOKING_REMINDER)


def test_checking_in_withdraws_the_pending_reminder(desk: User, booked: Appointment) -> None:
    assert reminder(booked).status == MessageStatus.SCHEDULED
    with time_machine.travel(datetime(2026, 3, 6, 13, 50, tzinfo=UTC), tick=False):
        appointment_set_status(acting_user=desk, appointment=booked, status=AppointmentStatus.CHECKED_IN)
    withdrawn = reminder(booked)
    assert withdrawn.status == MessageStatus.CANCELLED
    assert "already been seen" in withdrawn.cancelled_reason


def test_confirming_keeps_the_reminder(desk: User, booked: Appointment) -> None:
    with time_machine.travel(NOW, tick=False):
        appointment_set_status(acting_user=desk, appointment=booked, status=AppointmentStatus.CONFIRMED)
    assert reminder(booked).status == MessageStatus.SCHEDULED


@pytest.mark.parametrize(
    "status",
    [
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.IN_PROGRESS,
        AppointmentStatus.COMPLETED,
        AppointmentStatus.NO_SHOW,
    ],
)
def test_the_dispatcher_does_not_send_a_reminder_for_a_patient_already_seen(
    booked: Appointment, smtp: Sink, status: str
) -> None:
    # Set straight on the row, as a path that calls no hook would (a signed session completes it).
    Appointment.objects.filter(pk=booked.pk).update(status=status)
    with time_machine.travel(REMINDER_DUE, tick=False):
        result = dispatch_due()
    assert (result.sent, result.withdrawn) == (1, 1)  # the confirmation only
    assert [m["Subject"] for m in smtp.received] == [
        Message.objects.get(source=f"appointment:{booked.pk}", kind=MessageKind.BOOKING_CONFIRMATION).subject
    ]
    assert reminder(booked).status == MessageStatus.CANCELLED


def test_the_dispatcher_sends_the_reminder_of_an_appointment_still_to_come(booked: Appointment, smtp: Sink) -> None:
    with time_machine.travel(REMINDER_DUE, tick=False):
        result = dispatch_due()
    assert (result.sent, result.withdrawn) == (2, 0)
    assert reminder(booked).status == MessageStatus.SENT
