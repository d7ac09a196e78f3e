"""Free slots: when a practitioner who performs a type works, is not off or booked, and a room is free.

One engine for one day (the front desk) and for a range of days (the public booking page): a
fixed number of queries per search, whatever the number of days or appointments.
"""

from __future__ import annotations

from bisect import bisect_right
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


def performers(appointment_type: AppointmentType, location: Location) -> list[User]:
    """Who performs ``appointment_type`` at ``location``: staff in its role who work there."""
    return list(
        User.objects.in_roles(appointment_type.performer_role)
        .filter(locations=location)
        .order_by("last_name", "first_name", "id")
    )


# Busy time as POSIX timestamps: comparing floats is several times faster than comparing
# aware datetimes of two time zones, and orders instants the same way.
type Interval = tuple[float, float]


def _overlaps(start: float, end: float, busy: list[Interval]) -> bool:
    # A loop, not any() over a generator: called for every candidate start of two weeks.
    for b_start, b_end in busy:  # noqa: SIM110
        if b_start < end and start < b_end:
            return True
    return False


class _Days:
    """The searched days and their bounds, to file busy time under each day it touches."""

    def __init__(self, location: Location, searched: list[date]) -> None:
        self.days = searched
        bounds = [location.day_bounds(day) for day in searched]
        self.starts = [start.timestamp() for start, _ in bounds]
        self.ends = [end.timestamp() for _, end in bounds]
        # What one day's search reads as "started less than a day before": after the local
        # midnight before the day's own (wall-clock arithmetic, 23 or 25 hours across DST).
        self.day_before = [(start - timedelta(days=1)).timestamp() for start, _ in bounds]
        self.start, self.end = bounds[0][0], bounds[-1][1]
        # No clock change that day: 24 hours elapse (timestamps: subtracting two datetimes of
        # one zone gives the wall-clock difference), and one UTC offset at both ends.
        self.steady = [
            day_end - day_start == 86400 and start.utcoffset() == end.utcoffset()
            for day_start, day_end, (start, end) in zip(self.starts, self.ends, bounds, strict=True)
        ]

    def spread(
        self, busy: dict[tuple[int, date], list[Interval]], key: int, start: datetime, end: datetime, *, recent: bool
    ) -> None:
        """File [start, end) under each searched day it overlaps; with ``recent``, only under
        the days it began less than a day before, as a search of that one day reads them."""
        b_start, b_end = start.timestamp(), end.timestamp()
        i = max(0, bisect_right(self.starts, b_start) - 1)
        while i < len(self.days) and self.starts[i] < b_end:
            if self.ends[i] > b_start and (not recent or b_start > self.day_before[i]):
                busy[(key, self.days[i])].append((b_start, b_end))
            i += 1


def free_slots_by_day(
    *,
    appointment_type: AppointmentType,
    location: Location,
    first_day: date,
    days: int,
    practitioner: User | None = None,
    exclude_appointment_id: int | None = None,
    not_before: datetime | None = None,
    room: Room | None = None,
) -> dict[date, list[Slot]]:
    """Every free start (on a 15-minute grid) on each of ``days`` days from ``first_day`` at
    ``location``: the days in order, each with its slots earliest first (an empty list when
    nothing is free).

    One slot per start and practitioner, with the first free room (or only ``room``: a slot
    clicked in a room's column of the day grid). Six queries whatever the number of days and
    appointments: the performers, the rooms, the working hours of the weekdays searched, the
    appointments holding those practitioners, those holding the rooms, and the time off, each
    read once for the whole range.
    """
    searched = [first_day + timedelta(days=offset) for offset in range(days)]
    found: dict[date, list[Slot]] = {day: [] for day in searched}
    if not searched:
        return found
    candidates = [practitioner] if practitioner is not None else performers(appointment_type, location)
    if not candidates:
        return found
    ids = [p.pk for p in candidates]
    by_id = {p.pk: p for p in candidates}
    zone = location.zone
    span = _Days(location, searched)
    duration = appointment_type.duration
    not_before_ts = (not_before or timezone.now()).timestamp()

    rooms = list(Room.objects.active().filter(location=location).order_by("name", "id"))
    if room is not None:
        rooms = [r for r in rooms if r.pk == room.pk]
    if not rooms:
        return found
    schedules: dict[int, list[StaffSchedule]] = defaultdict(list)
    for schedule in StaffSchedule.objects.filter(
        location=location, weekday__in={day.weekday() for day in searched}, staff_id__in=ids
    ).order_by():
        schedules[schedule.weekday].append(schedule)
    busy_staff: dict[tuple[int, date], list[Interval]] = defaultdict(list)
    busy_room: dict[tuple[int, date], list[Interval]] = defaultdict(list)
    # No appointment spans two local days (the booking refuses one), so nothing that started a
    # day or more before a searched day reaches into it: the lower bound lets the (practitioner,
    # start) and (room, start) indexes skip the history instead of reading all of it.
    held = (
        Appointment.objects.holding_time()
        .overlapping(span.start, span.end)
        .filter(start__gt=span.start - timedelta(days=1))
    )
    if exclude_appointment_id is not None:
        held = held.exclude(pk=exclude_appointment_id)
    for staff_id, start, end in held.filter(practitioner_id__in=ids).values_list("practitioner_id", "start", "end"):
        span.spread(busy_staff, staff_id, start, end, recent=True)
    for room_id, start, end in held.filter(room__in=rooms).values_list("room_id", "start", "end"):
        span.spread(busy_room, room_id, start, end, recent=True)
    for staff_id, start, end in TimeOff.objects.filter(
        staff_id__in=ids, start__lt=span.end, end__gt=span.start
    ).values_list("staff_id", "start", "end"):
        span.spread(busy_staff, staff_id, start, end, recent=False)

    no_time: list[Interval] = []
    for i, day in enumerate(searched):
        slots = found[day]
        rooms_busy = [(r, busy_room.get((r.pk, day), no_time)) for r in rooms]
        for schedule in schedules[day.weekday()]:
            staff_busy = busy_staff.get((schedule.staff_id, day), no_time)
            window_start = datetime.combine(day, schedule.start_time, tzinfo=zone)
            window_end = datetime.combine(day, schedule.end_time, tzinfo=zone)
            for k, s, e in _starts(window_start, window_end, duration, steady=span.steady[i]):
                if s < not_before_ts or _overlaps(s, e, staff_busy):
                    continue
                for free_room, busy in rooms_busy:
                    if not _overlaps(s, e, busy):
                        start = window_start + k * SLOT_STEP
                        slots.append(Slot(start, start + duration, by_id[schedule.staff_id], free_room))
                        break
        slots.sort(key=lambda s: (s.start, s.practitioner.last_name, s.practitioner.pk))
    return found


def _starts(
    window_start: datetime, window_end: datetime, duration: timedelta, *, steady: bool
) -> list[tuple[int, float, float]]:
    """The candidate starts in a window of working hours: (step number, start, end) for each,
    on the 15-minute grid, that ends within the window.

    Wall-clock steps (aware arithmetic in one zone), so 09:00 stays 09:00 across DST. On a
    ``steady`` day (no clock change) that is plain arithmetic on the timestamps; the day the
    clocks change takes each start's own UTC offset.
    """
    step, length = SLOT_STEP.total_seconds(), duration.total_seconds()
    if steady:
        first, last = window_start.timestamp(), window_end.timestamp() - length
        if last < first:
            return []
        return [(k, first + k * step, first + k * step + length) for k in range(int((last - first) // step) + 1)]
    found = []
    k, start = 0, window_start
    while start + duration <= window_end:
        found.append((k, start.timestamp(), (start + duration).timestamp()))
        k, start = k + 1, start + SLOT_STEP
    return found


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
    """Every free start (on a 15-minute grid) on ``day`` at ``location``, earliest first: the
    front desk's search, ``free_slots_by_day`` for one day."""
    return free_slots_by_day(
        appointment_type=appointment_type,
        location=location,
        first_day=day,
        days=1,
        practitioner=practitioner,
        exclude_appointment_id=exclude_appointment_id,
        not_before=not_before,
        room=room,
    )[day]


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
