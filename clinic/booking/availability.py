"""Free slots: when a practitioner who performs a type works, is not off or booked, and a room is free.

A fixed number of queries per day searched, whatever the number of appointments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from clinic.models import Appointment, AppointmentType, Location, Room, StaffSchedule, TimeOff, User

SLOT_STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    practitioner: User
    room: Room


def performers(appointment_type: AppointmentType) -> list[User]:
    return list(User.objects.in_roles(appointment_type.performer_role).order_by("last_name", "first_name", "id"))


def _overlaps(start: datetime, end: datetime, busy: list[tuple[datetime, datetime]]) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def free_slots(
    *,
    appointment_type: AppointmentType,
    location: Location,
    day: date,
    practitioner: User | None = None,
    exclude_appointment_id: int | None = None,
    not_before: datetime | None = None,
    room: Room | None = None,
) -> list[Slot]:
    """Every free start (on a 15-minute grid) on ``day`` at ``location``, earliest first.

    One slot per start and practitioner, with the first free room (or only ``room``: a slot
    clicked in a room's column of the day grid).
    """
    candidates = [practitioner] if practitioner is not None else performers(appointment_type)
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
    # No appointment spans two local days (the booking refuses one), so nothing that started a
    # day or more before this one reaches into it: the lower bound lets the (practitioner,
    # start) and (location, start) indexes skip the history instead of reading all of it.
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


def nearest_free_slots(
    *,
    appointment_type: AppointmentType,
    location: Location,
    around: datetime,
    practitioner: User | None = None,
    exclude_appointment_id: int | None = None,
    limit: int = 3,
    days: int = 7,
) -> list[Slot]:
    """The ``limit`` free slots closest to ``around`` (before or after), looking ``days`` ahead."""
    first_day = location.local(around).date()
    found: list[Slot] = []
    for offset in range(days):
        found += free_slots(
            appointment_type=appointment_type,
            location=location,
            day=first_day + timedelta(days=offset),
            practitioner=practitioner,
            exclude_appointment_id=exclude_appointment_id,
        )
        if len(found) >= limit and offset > 0:
            break
    found.sort(key=lambda s: abs((s.start - around).total_seconds()))
    chosen: list[Slot] = []
    seen: set[datetime] = set()
    for slot in found:
        if slot.start not in seen:
            seen.add(slot.start)
            chosen.append(slot)
        if len(chosen) == limit:
            break
    return sorted(chosen, key=lambda s: s.start)
