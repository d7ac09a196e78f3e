"""Booking messages: confirmation with a calendar file, the reminder and its one-click answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

import icalendar
import pytest
import time_machine
from django.conf import settings
from django.test import Client

from aftercare import links
from aftercare.dispatcher import dispatch_due
from aftercare.models import (
    AppointmentReply,
    AppointmentReplyAnswer,
    LinkClick,
    LinkOutcome,
    Message,
    MessageKind,
    MessageStatus,
)
from clinic.booking.services import BookingRefused, appointment_book, appointment_cancel, appointment_reschedule
from clinic.models import Appointment, Location
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


@pytest.fixture
def booked(django_capture_on_commit_callbacks: Any) -> Appointment:
    # The messages are scheduled right after the booking commits (aftercare/hooks.py).
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        location = LocationFactory(name="Central", time_zone="Europe/London", address="12 Harbour Street, London")
        specialist = UserFactory(username="sara", role=Role.SPECIALIST)
        StaffScheduleFactory.every_day(staff=specialist, location=location)
        appointment = appointment_book(
            acting_user=UserFactory(username="desk", role=Role.FRONT_DESK),
            patient=PatientFactory(first_name="Anna"),
            appointment_type=AppointmentTypeFactory(),
            practitioner=specialist,
            room=RoomFactory(location=location, name="Room 1"),
            start=datetime.combine(FRIDAY, time(14, 0), tzinfo=location.zone),
        )
    return appointment


def messages(appointment: Appointment) -> dict[str, Message]:
    return {m.kind: m for m in Message.objects.filter(source=f"appointment:{appointment.pk}", status="scheduled")}


def calendar_event(message: Message) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(message.attachment_ics)
    assert str(calendar["METHOD"]) == "PUBLISH"
    [event] = calendar.events
    return event


def test_booking_schedules_a_confirmation_now_and_a_reminder_the_day_before_at_ten(booked: Appointment) -> None:
    found = messages(booked)
    assert set(found) == {MessageKind.BOOKING_CONFIRMATION, MessageKind.BOOKING_REMINDER}
    assert found[MessageKind.BOOKING_CONFIRMATION].due_at == NOW
    zone = booked.location.zone
    assert found[MessageKind.BOOKING_REMINDER].due_at == datetime(2026, 3, 5, 10, 0, tzinfo=zone)
    assert "Friday 6 March at 14:00" in found[MessageKind.BOOKING_CONFIRMATION].body_text
    ics = found[MessageKind.BOOKING_CONFIRMATION].attachment_ics
    assert "DTSTART:20260306T140000Z" in ics
    assert "LOCATION:Central\\, 12 Harbour Street\\, London" in ics
    assert found[MessageKind.BOOKING_REMINDER].body_text.count("/aftercare/a/") == 2


def test_the_confirmation_goes_out_with_its_calendar_file(booked: Appointment, smtp: Sink) -> None:
    with time_machine.travel(NOW, tick=False):
        assert dispatch_due().sent == 1
    [received] = smtp.received
    parts = {part.get_content_type(): part for part in received.walk()}
    assert "text/calendar" in parts
    assert parts["text/calendar"].get_filename() == "appointment.ics"


def test_a_bookings_messages_are_stored_without_wire_bytes_and_the_first_send_builds_them(
    booked: Appointment, smtp: Sink
) -> None:
    # The booking POST leaves the MIME bytes to the dispatcher (the front desk waits on the POST).
    found = messages(booked)
    assert [bytes(m.raw) for m in found.values()] == [b"", b""]
    with time_machine.travel(NOW, tick=False):
        assert dispatch_due().sent == 1
    confirmation = Message.objects.get(pk=found[MessageKind.BOOKING_CONFIRMATION].pk)
    assert confirmation.envelope_to == booked.patient.email
    assert b"Message-ID: " + confirmation.message_id.encode() in bytes(confirmation.raw)
    [received] = smtp.received
    assert received["Message-ID"] == confirmation.message_id


def test_moving_the_appointment_replaces_its_pending_messages(
    booked: Appointment, django_capture_on_commit_callbacks: Any
) -> None:
    old_reminder = messages(booked)[MessageKind.BOOKING_REMINDER]
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(
            acting_user=UserFactory(username="desk2", role=Role.FRONT_DESK),
            appointment=booked,
            start=datetime.combine(FRIDAY, time(16, 0), tzinfo=booked.location.zone),
        )
    old_reminder.refresh_from_db()
    assert old_reminder.status == MessageStatus.CANCELLED
    new = messages(booked)
    assert "at 16:00" in new[MessageKind.BOOKING_REMINDER].body_text
    assert "SEQUENCE:1" in new[MessageKind.BOOKING_CONFIRMATION].attachment_ics


def test_moving_the_appointment_updates_the_same_calendar_event_with_a_higher_sequence(
    booked: Appointment, django_capture_on_commit_callbacks: Any
) -> None:
    first = calendar_event(messages(booked)[MessageKind.BOOKING_CONFIRMATION])
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(
            acting_user=UserFactory(username="desk4", role=Role.FRONT_DESK),
            appointment=booked,
            start=datetime.combine(FRIDAY, time(16, 0), tzinfo=booked.location.zone),
        )
    moved = calendar_event(messages(booked)[MessageKind.BOOKING_CONFIRMATION])
    # Same UID, higher SEQUENCE: the patient's calendar moves the event instead of adding a second.
    assert str(moved["UID"]) == str(first["UID"]) == f"appointment-{booked.pk}@{urlsplit(settings.SITE_URL).hostname}"
    assert (first["SEQUENCE"], moved["SEQUENCE"]) == (0, 1)
    assert first.decoded("DTSTART") == datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
    assert moved.decoded("DTSTART") == datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    assert moved.decoded("DTEND") == booked.end.astimezone(UTC)


def test_a_cancelled_appointment_cancels_its_pending_messages(booked: Appointment) -> None:
    with time_machine.travel(NOW, tick=False):
        appointment_cancel(
            acting_user=UserFactory(username="desk3", role=Role.FRONT_DESK), appointment=booked, reason="Unwell"
        )
    statuses = set(Message.objects.filter(source=f"appointment:{booked.pk}").values_list("status", flat=True))
    assert statuses == {MessageStatus.CANCELLED}


def test_a_booking_that_fails_stores_no_messages(booked: Appointment, django_capture_on_commit_callbacks: Any) -> None:
    count = Message.objects.count()
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(BookingRefused),
    ):
        appointment_book(
            acting_user=booked.created_by,  # type: ignore[arg-type]
            patient=PatientFactory(),
            appointment_type=booked.appointment_type,
            practitioner=booked.practitioner,
            room=booked.room,
            start=booked.start,
        )
    assert Message.objects.count() == count


@pytest.mark.parametrize(
    ("answer", "text"),
    [(AppointmentReplyAnswer.CONFIRM, "see you then"), (AppointmentReplyAnswer.RESCHEDULE, "another time")],
)
def test_the_patient_answers_the_reminder_with_the_button_on_the_link_page(
    booked: Appointment, client: Client, answer: AppointmentReplyAnswer, text: str
) -> None:
    reminder = messages(booked)[MessageKind.BOOKING_REMINDER]
    path = links.booking_path(reminder.token, answer)
    assert client.get(path).status_code == 200
    assert not AppointmentReply.objects.exists()  # mail scanners follow links: GET records nothing
    response = client.post(path)
    assert response.status_code == 200
    assert text in response.content.decode()
    reply = AppointmentReply.objects.get()
    assert (reply.appointment_id, reply.answer) == (booked.pk, answer)


def test_the_answer_shows_on_the_day_schedule(booked: Appointment, client: Client) -> None:
    reminder = messages(booked)[MessageKind.BOOKING_REMINDER]
    client.post(links.booking_path(reminder.token, AppointmentReplyAnswer.RESCHEDULE))
    client.force_login(UserFactory(username="desk2", role=Role.FRONT_DESK))
    day = booked.location.local(booked.start).date()
    page = client.get(f"/front-desk/?date={day.isoformat()}").content.decode()
    card = page[page.index(f'id="appointment-{booked.pk}"') :]
    assert "Asks to reschedule" in card[: card.index("appointment-actions")]


def test_a_forged_reminder_link_reveals_nothing(booked: Appointment, client: Client) -> None:
    reminder = messages(booked)[MessageKind.BOOKING_REMINDER]
    path = links.booking_path(reminder.token, AppointmentReplyAnswer.CONFIRM)
    response = client.get(path[:-4] + "xyz/")
    assert response.status_code == 400
    assert "Anna" not in response.content.decode()
    assert not AppointmentReply.objects.exists()


def test_a_booking_for_tomorrow_morning_gets_the_confirmation_only(
    booked: Appointment, django_capture_on_commit_callbacks: Any
) -> None:
    location: Location = booked.location
    with (
        time_machine.travel(datetime(2026, 3, 2, 18, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        appointment = appointment_book(
            acting_user=booked.created_by,  # type: ignore[arg-type]
            patient=PatientFactory(),
            appointment_type=booked.appointment_type,
            practitioner=booked.practitioner,
            room=booked.room,
            start=datetime(2026, 3, 3, 9, 0, tzinfo=location.zone),
        )
    assert set(messages(appointment)) == {MessageKind.BOOKING_CONFIRMATION}


def _move(booked: Appointment, django_capture_on_commit_callbacks: Any, hour: int) -> None:
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(
            acting_user=UserFactory(username=f"mover{hour}", role=Role.FRONT_DESK),
            appointment=booked,
            start=datetime.combine(FRIDAY, time(hour, 0), tzinfo=booked.location.zone),
        )


@pytest.mark.parametrize("was_sent", [True, False], ids=["sent", "pending"])
def test_the_old_confirm_link_of_a_moved_appointment_records_nothing(
    booked: Appointment, client: Client, django_capture_on_commit_callbacks: Any, was_sent: bool
) -> None:
    old_reminder = messages(booked)[MessageKind.BOOKING_REMINDER]
    if was_sent:
        Message.objects.filter(pk=old_reminder.pk).update(status=MessageStatus.SENT, sent_at=NOW)
    _move(booked, django_capture_on_commit_callbacks, 16)
    path = links.booking_path(old_reminder.token, AppointmentReplyAnswer.CONFIRM)
    assert "has moved" in client.get(path).content.decode()
    response = client.post(path)
    assert response.status_code == 200
    assert "has moved" in response.content.decode()
    assert not AppointmentReply.objects.exists()
    assert LinkClick.objects.get().outcome == LinkOutcome.SUPERSEDED


def test_the_new_reminder_of_a_moved_appointment_confirms_the_new_time(
    booked: Appointment, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    _move(booked, django_capture_on_commit_callbacks, 16)
    new_reminder = messages(booked)[MessageKind.BOOKING_REMINDER]
    client.post(links.booking_path(new_reminder.token, AppointmentReplyAnswer.CONFIRM))
    assert AppointmentReply.objects.get().answer == AppointmentReplyAnswer.CONFIRM


def test_a_cancelled_appointments_reminder_does_not_record_confirm(
    booked: Appointment, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    reminder = messages(booked)[MessageKind.BOOKING_REMINDER]
    Message.objects.filter(pk=reminder.pk).update(status=MessageStatus.SENT, sent_at=NOW)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(
            acting_user=UserFactory(username="desk9", role=Role.FRONT_DESK), appointment=booked, reason="Ill"
        )
    path = links.booking_path(reminder.token, AppointmentReplyAnswer.CONFIRM)
    response = client.post(path)
    assert "was cancelled" in response.content.decode()
    assert not AppointmentReply.objects.exists()
    assert LinkClick.objects.get().outcome == LinkOutcome.CANCELLED


def test_opening_a_reminder_link_changes_nothing(booked: Appointment, client: Client) -> None:
    reminder = messages(booked)[MessageKind.BOOKING_REMINDER]
    response = client.get(links.booking_path(reminder.token, AppointmentReplyAnswer.CONFIRM))
    assert 'method="post"' in response.content.decode()
    assert not AppointmentReply.objects.exists()
    assert not LinkClick.objects.exists()


def test_the_confirmation_and_reminder_name_the_service_the_location_and_its_address(booked: Appointment) -> None:
    found = messages(booked)
    service = booked.appointment_type.name
    for kind in (MessageKind.BOOKING_CONFIRMATION, MessageKind.BOOKING_REMINDER):
        message = found[kind]
        assert f"What: {service}" in message.body_text
        assert "Where: Central, 12 Harbour Street, London" in message.body_text
        assert "When: Friday 6 March, 14:00" in message.body_text
        assert "12 Harbour Street, London" in message.body_html
    assert f"Your {service} is booked for Friday 6 March at 14:00 at Central." in (
        found[MessageKind.BOOKING_CONFIRMATION].body_text
    )


def test_a_moved_appointments_confirmation_says_it_moved_from_when_to_when(
    booked: Appointment, django_capture_on_commit_callbacks: Any
) -> None:
    assert "moved" not in messages(booked)[MessageKind.BOOKING_CONFIRMATION].body_text
    _move(booked, django_capture_on_commit_callbacks, 16)
    moved = messages(booked)[MessageKind.BOOKING_CONFIRMATION]
    assert moved.subject == "Your appointment has moved to Friday 6 March, 16:00"
    assert (
        f"Your {booked.appointment_type.name} has moved: it was on Friday 6 March, 14:00, "
        "and is now on Friday 6 March, 16:00."
    ) in moved.body_text
    assert "Where: Central, 12 Harbour Street, London" in moved.body_text
