"""Booking rules: working hours, time off, clearance, and no double-booking (checked by PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from clinic.booking.availability import free_slots
from clinic.booking.services import (
    BookingRefused,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
)
from clinic.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    Location,
    Patient,
    Room,
    StatusChangeRefused,
    TimeOff,
    User,
)
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

# Monday 2 March 2026, 08:00 in London (GMT, so also 08:00 UTC).
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TUESDAY = date(2026, 3, 3)


@dataclass
class Scene:
    location: Location
    room: Room
    other_room: Room
    consultation: AppointmentType
    specialist: User
    other_specialist: User
    desk: User
    patient: Patient

    def at(self, hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.location.zone)

    def book(self, start: datetime, **overrides: object) -> Appointment:
        fields: dict[str, object] = {
            "acting_user": self.desk,
            "patient": self.patient,
            "appointment_type": self.consultation,
            "practitioner": self.specialist,
            "room": self.room,
            "start": start,
        }
        fields.update(overrides)
        return appointment_book(**fields)  # type: ignore[arg-type]


@pytest.fixture
def scene() -> Iterator[Scene]:
    with time_machine.travel(NOW, tick=False):
        location = LocationFactory(name="Central", time_zone="Europe/London")
        specialist = UserFactory(username="sara", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
        other = UserFactory(username="omar", first_name="Omar", last_name="Reed", role=Role.SPECIALIST)
        for person in (specialist, other):
            StaffScheduleFactory.every_day(staff=person, location=location)
        yield Scene(
            location=location,
            room=RoomFactory(location=location, name="Room 1"),
            other_room=RoomFactory(location=location, name="Room 2"),
            consultation=AppointmentTypeFactory(),
            specialist=specialist,
            other_specialist=other,
            desk=UserFactory(username="desk", role=Role.FRONT_DESK),
            patient=PatientFactory(first_name="Anna", last_name="Smith"),
        )


def test_it_books_for_the_types_duration_and_records_who_booked(scene: Scene) -> None:
    appointment = scene.book(scene.at(10))
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.end - appointment.start == timedelta(minutes=45)
    assert appointment.location_id == scene.location.pk
    assert appointment.created_by == scene.desk
    assert appointment.created_at == NOW


def test_a_booking_and_a_cancellation_outside_a_request_record_the_acting_user_in_the_audit(scene: Scene) -> None:
    # As the demo loader, a management command or a Celery task would: no request, so no
    # context from the middleware; the services set it from acting_user.
    appointment = scene.book(scene.at(10))
    appointment_cancel(acting_user=scene.other_specialist, appointment=appointment, reason="Unwell")
    events = Appointment.pgh_event_models["insert"].objects.filter(pgh_obj_id=appointment.pk)  # type: ignore[attr-defined]
    booked = events.get(pgh_label="insert")
    cancelled = events.filter(pgh_label="update").order_by("pgh_id").last()
    assert booked.pgh_context.metadata["user"] == scene.desk.pk
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.pgh_context.metadata["user"] == scene.other_specialist.pk


def test_it_refuses_overlapping_booking_for_the_same_practitioner_and_offers_nearest_slots(scene: Scene) -> None:
    scene.book(scene.at(10))
    with pytest.raises(BookingRefused) as refused:
        scene.book(scene.at(10, 30), room=scene.other_room, patient=PatientFactory())
    assert "practitioner is already booked" in refused.value.messages[0]
    assert refused.value.nearest, "a clash offers the nearest free slots"
    for slot in refused.value.nearest:
        assert slot.end <= scene.at(10) or slot.start >= scene.at(10, 45)
    assert Appointment.objects.count() == 1


def test_it_refuses_a_second_booking_of_the_same_room(scene: Scene) -> None:
    scene.book(scene.at(10))
    with pytest.raises(BookingRefused, match="room is already booked"):
        scene.book(scene.at(10, 15), practitioner=scene.other_specialist, patient=PatientFactory())


def test_the_database_itself_refuses_double_booking(scene: Scene) -> None:
    AppointmentFactory(practitioner=scene.specialist, room=scene.room, start=scene.at(10))
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(practitioner=scene.specialist, room=scene.other_room, start=scene.at(10, 44))
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(practitioner=scene.other_specialist, room=scene.room, start=scene.at(9, 30))


def test_the_database_refuses_an_appointment_that_ends_before_it_starts(scene: Scene) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(start=scene.at(10), end=scene.at(9))


def test_back_to_back_appointments_are_allowed(scene: Scene) -> None:
    scene.book(scene.at(10))
    scene.book(scene.at(10, 45), patient=PatientFactory())
    assert Appointment.objects.count() == 2


def test_a_cancelled_or_missed_appointment_frees_its_time(scene: Scene) -> None:
    first = scene.book(scene.at(10))
    appointment_cancel(acting_user=scene.desk, appointment=first, reason="Patient is unwell")
    second = scene.book(scene.at(10), patient=PatientFactory())
    with time_machine.travel(scene.at(10, 20), tick=False):
        appointment_set_status(acting_user=scene.desk, appointment=second, status=AppointmentStatus.NO_SHOW)
    with time_machine.travel(NOW, tick=False):
        scene.book(scene.at(10), patient=PatientFactory())
    assert Appointment.objects.holding_time().count() == 1


def test_it_refuses_a_time_outside_working_hours(scene: Scene) -> None:
    with pytest.raises(BookingRefused, match="does not work at Central"):
        scene.book(scene.at(16, 30))  # 45 minutes runs past 17:00
    with pytest.raises(BookingRefused, match="does not work"):
        scene.book(scene.at(8))


def test_it_refuses_a_time_in_the_past(scene: Scene) -> None:
    with pytest.raises(BookingRefused, match="already passed"):
        scene.book(scene.at(9, day=date(2026, 3, 1)))


def test_working_hours_are_local_time_across_the_clock_change(scene: Scene) -> None:
    # 30 March 2026 is a Monday after the switch to BST: 09:00 local is 08:00 UTC.
    monday = date(2026, 3, 30)
    appointment = scene.book(scene.at(9, day=monday))
    assert appointment.start.astimezone(UTC).hour == 8
    with pytest.raises(BookingRefused, match="does not work"):
        scene.book(datetime(2026, 3, 30, 7, 30, tzinfo=UTC), patient=PatientFactory())


def test_it_refuses_a_time_when_the_practitioner_is_off(scene: Scene) -> None:
    TimeOff.objects.create(staff=scene.specialist, start=scene.at(12), end=scene.at(14), reason="Training")
    with pytest.raises(BookingRefused, match=r"is off at that time \(Training\)"):
        scene.book(scene.at(13))
    scene.book(scene.at(14))


def test_it_refuses_a_practitioner_who_does_not_perform_the_type(scene: Scene) -> None:
    aesthetician = UserFactory(username="amira", role=Role.AESTHETICIAN)
    StaffScheduleFactory.every_day(staff=aesthetician, location=scene.location)
    with pytest.raises(BookingRefused, match="does not perform"):
        scene.book(scene.at(10), practitioner=aesthetician)


def test_it_refuses_an_extraction_session_until_a_consultation_clears_the_patient(scene: Scene) -> None:
    extraction = AppointmentTypeFactory(
        name="Extraction session", kind=AppointmentKind.EXTRACTION, duration_minutes=60, performed_by=Role.AESTHETICIAN
    )
    aesthetician = UserFactory(username="amira", role=Role.AESTHETICIAN)
    StaffScheduleFactory.every_day(staff=aesthetician, location=scene.location)
    with pytest.raises(BookingRefused, match="after a consultation has cleared"):
        scene.book(scene.at(10), appointment_type=extraction, practitioner=aesthetician)


def test_checking_in_and_finishing_record_each_change(scene: Scene) -> None:
    appointment = scene.book(scene.at(10))
    with time_machine.travel(scene.at(9, 50), tick=False):
        appointment.check_in(by=scene.desk)
        appointment.begin(by=scene.specialist)
        appointment.complete(by=scene.specialist)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    steps = list(appointment.status_changes.values_list("from_status", "to_status", "by__username"))
    assert steps == [
        ("booked", "checked_in", "desk"),
        ("checked_in", "in_progress", "sara"),
        ("in_progress", "completed", "sara"),
    ]


def test_it_refuses_a_status_change_that_makes_no_sense(scene: Scene) -> None:
    appointment = scene.book(scene.at(10))
    appointment_cancel(acting_user=scene.desk, appointment=appointment, reason="Moved away")
    with pytest.raises(StatusChangeRefused):
        appointment.check_in(by=scene.desk)
    fresh = scene.book(scene.at(11), patient=PatientFactory())
    with pytest.raises(StatusChangeRefused):
        fresh.complete(by=scene.desk)


def test_cancelling_needs_a_reason(scene: Scene) -> None:
    appointment = scene.book(scene.at(10))
    with pytest.raises(StatusChangeRefused):
        appointment_cancel(acting_user=scene.desk, appointment=appointment, reason="  ")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_rescheduling_moves_the_appointment_and_keeps_the_old_time(scene: Scene) -> None:
    appointment = scene.book(scene.at(10))
    appointment_reschedule(acting_user=scene.desk, appointment=appointment, start=scene.at(15), reason="Asked")
    appointment.refresh_from_db()
    assert appointment.start == scene.at(15)
    change = appointment.status_changes.last()
    assert change is not None
    assert (change.old_start, change.new_start, change.reason) == (scene.at(10), scene.at(15), "Asked")


def test_rescheduling_onto_a_taken_time_is_refused_and_changes_nothing(scene: Scene) -> None:
    first = scene.book(scene.at(10))
    scene.book(scene.at(14), patient=PatientFactory())
    with pytest.raises(BookingRefused, match="already booked"):
        appointment_reschedule(acting_user=scene.desk, appointment=first, start=scene.at(14, 15))
    first.refresh_from_db()
    assert first.start == scene.at(10)
    assert not first.status_changes.exists()


def test_free_slots_skip_booked_times_time_off_and_full_rooms(scene: Scene) -> None:
    scene.book(scene.at(10))
    TimeOff.objects.create(staff=scene.specialist, start=scene.at(13), end=scene.at(17))
    slots = free_slots(
        appointment_type=scene.consultation, location=scene.location, day=TUESDAY, practitioner=scene.specialist
    )
    starts = [s.start for s in slots]
    assert scene.at(9) in starts
    assert scene.at(9, 15) in starts  # ends 10:00, back to back
    assert scene.at(9, 30) not in starts
    assert scene.at(10, 45) in starts
    assert scene.at(12, 15) in starts  # ends 13:00
    assert scene.at(12, 30) not in starts
    assert all(s.room == scene.room for s in slots)


def test_free_slots_offer_another_room_when_one_is_taken(scene: Scene) -> None:
    scene.book(scene.at(10))
    slots = free_slots(
        appointment_type=scene.consultation,
        location=scene.location,
        day=TUESDAY,
        practitioner=scene.other_specialist,
    )
    at_ten = [s for s in slots if s.start == scene.at(10)]
    assert [s.room for s in at_ten] == [scene.other_room]


def test_free_slots_without_a_practitioner_cover_everyone_who_performs_the_type(scene: Scene) -> None:
    slots = free_slots(appointment_type=scene.consultation, location=scene.location, day=TUESDAY)
    assert {s.practitioner for s in slots if s.start == scene.at(9)} == {scene.specialist, scene.other_specialist}
