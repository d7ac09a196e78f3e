"""The booking-messages sweeper: a booking that a crash left without its messages gets them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings

from aftercare.dispatcher import dispatch_due
from aftercare.models import Message, MessageKind, MessageStatus
from aftercare.services import booking_messages_schedule, booking_messages_sweep
from clinic.models import Appointment, AppointmentStatus, Location
from tests.aftercare.smtp_sink import Sink
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, RoomFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 08:00 in London
FRIDAY = date(2026, 3, 6)
# Long enough after the booking for the sweeper to look at it.
LATER = NOW + timedelta(seconds=settings.AFTERCARE_SWEEP_GRACE_SECONDS + 60)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def central() -> Location:
    return LocationFactory(name="Central", time_zone="Europe/London")


def committed_without_messages(location: Location, **fields: Any) -> Appointment:
    """A booking whose commit went through but whose after-commit messages step never ran (a crash)."""
    start = datetime.combine(FRIDAY, time(14, 0), tzinfo=location.zone)
    return AppointmentFactory(room=RoomFactory(location=location), start=start, **fields)


def rows(appointment: Appointment) -> list[tuple[str, str, datetime, str]]:
    return sorted(
        Message.objects.filter(source=f"appointment:{appointment.pk}").values_list(
            "kind", "idempotency_key", "due_at", "status"
        )
    )


def test_a_booking_left_without_its_messages_gets_them_from_the_sweeper(clock: Any, central: Location) -> None:
    lost = committed_without_messages(central)
    clock.move_to(LATER)
    assert booking_messages_sweep() == 1
    when = lost.start.astimezone(UTC).isoformat()
    zone = central.zone
    assert rows(lost) == [
        (MessageKind.BOOKING_CONFIRMATION, f"confirmation@{when}", LATER, MessageStatus.SCHEDULED),
        (
            MessageKind.BOOKING_REMINDER,
            f"reminder@{when}",
            datetime(2026, 3, 5, 10, 0, tzinfo=zone),
            MessageStatus.SCHEDULED,
        ),
    ]
    confirmation = Message.objects.get(source=f"appointment:{lost.pk}", kind=MessageKind.BOOKING_CONFIRMATION)
    assert "DTSTART:20260306T140000Z" in confirmation.attachment_ics


def test_the_sweeper_writes_what_the_booking_itself_would_have(clock: Any, central: Location) -> None:
    normal = committed_without_messages(central)
    booking_messages_schedule(appointment=normal, new=True)  # what aftercare/hooks.py runs after the commit
    lost = committed_without_messages(central)
    clock.move_to(LATER)
    booking_messages_sweep()
    assert [(kind, key) for kind, key, _due, _status in rows(lost)] == [
        (kind, key) for kind, key, _due, _status in rows(normal)
    ]


def test_running_the_sweeper_twice_writes_nothing_more(clock: Any, central: Location) -> None:
    committed_without_messages(central)
    clock.move_to(LATER)
    assert booking_messages_sweep() == 1
    count = Message.objects.count()
    assert booking_messages_sweep() == 0
    assert Message.objects.count() == count


def test_a_booking_that_has_its_messages_is_left_alone(clock: Any, central: Location) -> None:
    booked = committed_without_messages(central)
    booking_messages_schedule(appointment=booked, new=True)
    before = rows(booked)
    clock.move_to(LATER)
    assert booking_messages_sweep() == 0
    assert rows(booked) == before


@pytest.mark.parametrize("status", [AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
def test_a_released_booking_gets_nothing(clock: Any, central: Location, status: str) -> None:
    released = committed_without_messages(central, status=status, cancel_reason="Unwell")
    clock.move_to(LATER)
    assert booking_messages_sweep() == 0
    assert rows(released) == []


def test_a_booking_in_the_past_gets_nothing(clock: Any, central: Location) -> None:
    past = committed_without_messages(central)
    clock.move_to(past.start + timedelta(hours=1))
    assert booking_messages_sweep() == 0
    assert rows(past) == []


def test_a_booking_just_made_is_left_to_its_own_after_commit_step(clock: Any, central: Location) -> None:
    fresh = committed_without_messages(central)
    clock.move_to(NOW + timedelta(seconds=settings.AFTERCARE_SWEEP_GRACE_SECONDS - 30))
    assert booking_messages_sweep() == 0
    assert rows(fresh) == []


def test_a_booking_older_than_the_lookback_is_not_swept(clock: Any, central: Location) -> None:
    start = NOW + timedelta(days=30)
    old = committed_without_messages(central)
    Appointment.objects.filter(pk=old.pk).update(start=start, end=start + timedelta(hours=1))
    clock.move_to(NOW + timedelta(days=settings.AFTERCARE_SWEEP_LOOKBACK_DAYS, minutes=1))
    assert booking_messages_sweep() == 0
    assert rows(old) == []


def test_a_patient_without_email_consent_gets_the_same_skipped_rows_as_the_normal_path(
    clock: Any, central: Location, smtp: Sink
) -> None:
    normal = committed_without_messages(central, patient=PatientFactory(email_consent=False))
    booking_messages_schedule(appointment=normal, new=True)
    lost = committed_without_messages(central, patient=PatientFactory(email_consent=False))
    clock.move_to(LATER)
    assert booking_messages_sweep() == 1
    clock.move_to(datetime.combine(FRIDAY, time(12, 0), tzinfo=central.zone))  # both messages are due
    dispatch_due()
    assert smtp.received == []
    assert [(kind, status) for kind, _key, _due, status in rows(lost)] == [
        (kind, status) for kind, _key, _due, status in rows(normal)
    ]
    assert {status for _kind, _key, _due, status in rows(lost)} == {MessageStatus.SKIPPED_NO_CONSENT}


def test_a_sweep_over_bookings_that_have_their_messages_is_one_query(
    clock: Any, central: Location, django_assert_num_queries: Any
) -> None:
    for _ in range(5):
        booking_messages_schedule(appointment=committed_without_messages(central), new=True)
    clock.move_to(LATER)
    with django_assert_num_queries(1):
        assert booking_messages_sweep() == 0


def test_sweeping_is_attributed_to_the_system(clock: Any, central: Location) -> None:
    lost = committed_without_messages(central)
    clock.move_to(LATER)
    booking_messages_sweep()
    message = Message.objects.filter(source=f"appointment:{lost.pk}").first()
    assert message is not None
    event = Message.pgh_event_models["insert"].objects.get(pgh_obj=message)  # type: ignore[attr-defined]
    assert event.pgh_context.metadata == {"user": None, "actor": "system"}


def test_the_sweeper_is_in_the_beat_schedule() -> None:
    from clinic.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["aftercare-booking-messages-sweep"]
    assert entry["task"] == "aftercare.tasks.sweep_booking_messages"
    assert entry["task"] in app.tasks
