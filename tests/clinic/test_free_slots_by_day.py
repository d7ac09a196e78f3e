"""The multi-day free-time finder: exactly the slots a search of each day one by one finds,
in a fixed number of queries, and only the practitioners who work at the location.

The oracle is the one-day engine as it was before the multi-day one replaced it (copied
below, unchanged but for the per-location performers): each scene is searched over two
weeks both ways and the answers compared slot by slot. The scenes are generated from fixed
seeds: working hours with breaks, time off (hours, whole days, across the range's start),
rooms (one inactive), bookings (released ones too, at another location, across midnight) and
a change of clocks inside the range, for two time zones.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.booking.availability import SLOT_STEP, Slot, free_slots, free_slots_by_day, performers
from clinic.models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Location,
    Room,
    StaffSchedule,
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

DAYS = 14


# --- The oracle: the one-day engine before the multi-day one ----------------------------------


def _overlaps(start: datetime, end: datetime, busy: list[tuple[datetime, datetime]]) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def one_day_reference(
    *,
    appointment_type: AppointmentType,
    location: Location,
    day: date,
    practitioner: User | None = None,
    exclude_appointment_id: int | None = None,
    not_before: datetime | None = None,
    room: Room | None = None,
) -> list[Slot]:
    candidates = [practitioner] if practitioner is not None else performers(appointment_type, location)
    if not candidates:
        return []
    ids = [p.pk for p in candidates]
    by_id = {p.pk: p for p in candidates}
    day_start, day_end = location.day_bounds(day)
    duration = appointment_type.duration
    not_before = not_before or timezone.now()

    schedules = StaffSchedule.objects.filter(location=location, weekday=day.weekday(), staff_id__in=ids)
    rooms = list(Room.objects.active().filter(location=location).order_by("name", "id"))
    if room is not None:
        rooms = [r for r in rooms if r.pk == room.pk]
    if not rooms:
        return []
    busy_staff: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    busy_room: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    held = (
        Appointment.objects.holding_time()
        .overlapping(day_start, day_end)
        .filter(start__gt=day_start - timedelta(days=1))
    )
    if exclude_appointment_id is not None:
        held = held.exclude(pk=exclude_appointment_id)
    for staff_id, start, end in held.filter(practitioner_id__in=ids).values_list("practitioner_id", "start", "end"):
        busy_staff[staff_id].append((start, end))
    for room_id, start, end in held.filter(room__in=rooms).values_list("room_id", "start", "end"):
        busy_room[room_id].append((start, end))
    for staff_id, start, end in TimeOff.objects.filter(
        staff_id__in=ids, start__lt=day_end, end__gt=day_start
    ).values_list("staff_id", "start", "end"):
        busy_staff[staff_id].append((start, end))

    slots: list[Slot] = []
    for schedule in schedules:
        window_start = datetime.combine(day, schedule.start_time, tzinfo=location.zone)
        window_end = datetime.combine(day, schedule.end_time, tzinfo=location.zone)
        start = window_start
        while start + duration <= window_end:
            end = start + duration
            if start >= not_before and not _overlaps(start, end, busy_staff[schedule.staff_id]):
                room = next((r for r in rooms if not _overlaps(start, end, busy_room[r.pk])), None)
                if room is not None:
                    slots.append(Slot(start, end, by_id[schedule.staff_id], room))
            start += SLOT_STEP
    slots.sort(key=lambda s: (s.start, s.practitioner.last_name, s.practitioner.pk))
    return slots


# --- Scenes -------------------------------------------------------------------------------------


@dataclass
class Scene:
    location: Location
    consultation: AppointmentType
    specialists: list[User]
    rooms: list[Room]
    appointments: list[Appointment]
    first_day: date


def _row(slot: Slot) -> tuple[str, str, int, int]:
    # isoformat: the same instant at another UTC offset would be a different answer.
    return (slot.start.isoformat(), slot.end.isoformat(), slot.practitioner.pk, slot.room.pk)


def _at(location: Location, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=location.zone)


def _appointment(**fields: object) -> Appointment | None:
    try:
        with transaction.atomic():
            return AppointmentFactory(**fields)  # type: ignore[no-any-return]
    except IntegrityError:
        return None  # the scene drew a clash: the constraints refuse it, as they would a booking


def build_scene(seed: int, zone: str, first_day: date) -> Scene:
    rng = random.Random(seed)  # noqa: S311  (a reproducible scene, not a secret)
    location = LocationFactory(name="Central", time_zone=zone)
    branch = LocationFactory(name="Branch", time_zone=zone)
    consultation = AppointmentTypeFactory(duration_minutes=rng.choice([30, 45, 60]))
    specialists = [
        UserFactory(username=f"spec{n}", last_name=rng.choice(["Ahmed", "Brown", "Brown"]), role=Role.SPECIALIST)
        for n in range(3)
    ]
    # One also works at the branch: her bookings there take her time here too.
    specialists[0].locations.add(branch)
    aesthetician = UserFactory(username="aes", role=Role.AESTHETICIAN)
    elsewhere = UserFactory(username="branch-spec", role=Role.SPECIALIST, locations=[branch])
    rooms = [RoomFactory(location=location, name=f"Room {n}") for n in (1, 2, 3)]
    RoomFactory(location=location, name="Closed", is_active=False)
    branch_room = RoomFactory(location=branch, name="Branch room")

    for staff in specialists:
        for weekday in range(7):
            # Wednesdays closed: a day with nothing free.
            shape = "off" if weekday == 2 else rng.choice(["off", "day", "day", "break", "early"])
            if shape == "day":
                StaffScheduleFactory(
                    staff=staff,
                    location=location,
                    weekday=weekday,
                    start_time=time(rng.choice([7, 8, 9]), rng.choice([0, 30])),
                    end_time=time(rng.choice([15, 16, 17, 18]), rng.choice([0, 15])),
                )
            elif shape == "break":
                StaffScheduleFactory(
                    staff=staff, location=location, weekday=weekday, start_time=time(9), end_time=time(12, 30)
                )
                StaffScheduleFactory(
                    staff=staff, location=location, weekday=weekday, start_time=time(13, 30), end_time=time(17)
                )
            elif shape == "early":
                # Through the small hours: the night the clocks change has a missing or a repeated hour.
                StaffScheduleFactory(
                    staff=staff, location=location, weekday=weekday, start_time=time(0), end_time=time(4)
                )
                StaffScheduleFactory(
                    staff=staff, location=location, weekday=weekday, start_time=time(10), end_time=time(14)
                )
    StaffScheduleFactory.every_day(staff=elsewhere, location=branch)

    patient = PatientFactory()
    appointments: list[Appointment] = []
    days = [first_day + timedelta(days=n) for n in range(-2, DAYS + 1)]
    branch_day = rng.choice(days)
    for hour in (10, 14):
        made = _appointment(
            appointment_type=consultation,
            patient=patient,
            practitioner=specialists[0],
            room=branch_room,
            start=_at(branch, branch_day, hour),
            end=_at(branch, branch_day, hour + 1),
        )
        if made is not None:
            appointments.append(made)
    # Across midnight, and one (written straight to the table) that began two days earlier:
    # a search of one day reads only what began less than a day before it.
    for start, hours in (
        (_at(location, first_day + timedelta(days=3), 23), 2),
        (_at(location, first_day + timedelta(days=5), 10), 50),
    ):
        made = _appointment(
            appointment_type=consultation,
            patient=patient,
            practitioner=specialists[1],
            room=rooms[2],
            start=start,
            end=start + timedelta(hours=hours),
        )
        if made is not None:
            appointments.append(made)

    statuses = [AppointmentStatus.BOOKED] * 5 + [AppointmentStatus.CONFIRMED, AppointmentStatus.NO_SHOW]
    for _ in range(70):
        day = rng.choice(days)
        start = _at(location, day, rng.randint(0, 18), rng.choice([0, 15, 30, 45]))
        status = rng.choice([*statuses, AppointmentStatus.CANCELLED])
        made = _appointment(
            appointment_type=consultation,
            patient=patient,
            practitioner=rng.choice([*specialists, aesthetician]),
            room=rng.choice(rooms),
            start=start,
            end=start + timedelta(minutes=rng.choice([15, 30, 45, 60, 90])),
            status=status,
            cancel_reason="Asked" if status == AppointmentStatus.CANCELLED else "",
        )
        if made is not None:
            appointments.append(made)
    for staff in specialists:
        day = rng.choice(days)
        start = _at(location, day, rng.randint(8, 15))
        TimeOff.objects.create(staff=staff, start=start, end=start + timedelta(hours=rng.randint(1, 4)))
        day = rng.choice(days)
        TimeOff.objects.create(
            staff=staff, start=_at(location, day, 0), end=_at(location, day + timedelta(days=rng.randint(1, 3)), 0)
        )
    TimeOff.objects.create(
        staff=specialists[2], start=_at(location, first_day - timedelta(days=1), 12), end=_at(location, first_day, 11)
    )
    return Scene(location, consultation, specialists, rooms, appointments, first_day)


# Mondays two weeks before the clocks change (London: 28 March and 31 October 2027; New York:
# 14 March and 7 November 2027), searched from 08:00 UTC.
CASES = [
    (seed, zone, first_day)
    for zone, first_days in (
        ("Europe/London", [date(2027, 3, 22), date(2027, 10, 25)]),
        ("America/New_York", [date(2027, 3, 8), date(2027, 11, 1)]),
    )
    for first_day in first_days
    for seed in (1, 2, 3)
]


@pytest.fixture(params=CASES, ids=[f"{zone}-{day}-seed{seed}" for seed, zone, day in CASES])
def scene(request: pytest.FixtureRequest) -> Iterator[Scene]:
    seed, zone, first_day = request.param
    with time_machine.travel(datetime.combine(first_day, time(8), tzinfo=UTC), tick=False):
        yield build_scene(seed, zone, first_day)


def _reference_days(scene: Scene, **options: object) -> dict[date, list[tuple[str, str, int, int]]]:
    return {
        scene.first_day + timedelta(days=n): [
            _row(s)
            for s in one_day_reference(
                appointment_type=scene.consultation,
                location=scene.location,
                day=scene.first_day + timedelta(days=n),
                **options,  # type: ignore[arg-type]
            )
        ]
        for n in range(DAYS)
    }


def _range_days(scene: Scene, **options: object) -> dict[date, list[tuple[str, str, int, int]]]:
    found = free_slots_by_day(
        appointment_type=scene.consultation,
        location=scene.location,
        first_day=scene.first_day,
        days=DAYS,
        **options,  # type: ignore[arg-type]
    )
    return {day: [_row(s) for s in slots] for day, slots in found.items()}


def _one_day_days(scene: Scene, **options: object) -> dict[date, list[tuple[str, str, int, int]]]:
    return {
        scene.first_day + timedelta(days=n): [
            _row(s)
            for s in free_slots(
                appointment_type=scene.consultation,
                location=scene.location,
                day=scene.first_day + timedelta(days=n),
                **options,  # type: ignore[arg-type]
            )
        ]
        for n in range(DAYS)
    }


def test_two_weeks_at_once_give_the_slots_of_each_day_searched_alone(scene: Scene) -> None:
    expected = _reference_days(scene)
    # Not a trivial scene: free times on some days, none on the closed Wednesdays, and many
    # bookings holding time.
    assert any(expected.values())
    assert all(not slots for day, slots in expected.items() if day.weekday() == 2)
    assert (
        len([a for a in scene.appointments if a.status not in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)])
        > 20
    )
    assert _range_days(scene) == expected
    assert _one_day_days(scene) == expected


def test_the_finder_agrees_day_by_day_for_one_practitioner_one_room_and_a_moved_appointment(scene: Scene) -> None:
    moving = next(a for a in scene.appointments if a.status == AppointmentStatus.BOOKED and a.room in scene.rooms)
    variants: list[dict[str, object]] = [
        {"practitioner": scene.specialists[1]},
        {"room": scene.rooms[1]},
        {"exclude_appointment_id": moving.pk},
        {"not_before": timezone.now() + timedelta(days=2, hours=3)},
    ]
    for options in variants:
        expected = _reference_days(scene, **options)
        assert any(expected.values()), options
        assert _range_days(scene, **options) == expected, options
        assert _one_day_days(scene, **options) == expected, options


@pytest.mark.parametrize("scene", CASES[:1], indirect=True)
def test_the_finder_reads_the_same_number_of_queries_for_one_day_and_for_two_weeks(
    scene: Scene, django_assert_num_queries: object
) -> None:
    with django_assert_num_queries(6):  # type: ignore[operator]
        one = free_slots_by_day(
            appointment_type=scene.consultation, location=scene.location, first_day=scene.first_day, days=1
        )
    with django_assert_num_queries(6):  # type: ignore[operator]
        many = free_slots_by_day(
            appointment_type=scene.consultation, location=scene.location, first_day=scene.first_day, days=DAYS
        )
    assert list(one) == [scene.first_day]
    assert len(many) == DAYS


def test_performers_are_the_practitioners_who_work_at_the_location(db: None) -> None:
    central = LocationFactory(name="Central")
    branch = LocationFactory(name="Branch")
    here = UserFactory(username="here", role=Role.SPECIALIST, locations=[central])
    both = UserFactory(username="both", role=Role.SPECIALIST, locations=[central, branch])
    UserFactory(username="there", role=Role.SPECIALIST, locations=[branch])
    UserFactory(username="aes", role=Role.AESTHETICIAN, locations=[central])
    UserFactory(username="gone", role=Role.SPECIALIST, locations=[central], is_active=False)
    consultation = AppointmentTypeFactory()
    assert {u.username for u in performers(consultation, central)} == {here.username, both.username}
    assert {u.username for u in performers(consultation, branch)} == {"both", "there"}
