"""The day schedule as a table: time down the side, a column per practitioner or per room.

Appointments become cells spanning their rows (``rowspan``), so the page needs no inline
styles (the CSP forbids them). A fixed number of queries, whatever the number of appointments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from clinic.availability import local_day_bounds
from clinic.models import RELEASED_STATUSES, Appointment, Location, Room, StaffSchedule, User

ROW = timedelta(minutes=15)
DEFAULT_OPEN, DEFAULT_CLOSE = time(8, 0), time(18, 0)


@dataclass
class Cell:
    appointment: Appointment | None = None
    rowspan: int = 1
    working: bool = False


@dataclass
class Row:
    start: datetime
    cells: list[Cell | None] = field(default_factory=list)  # None: covered by a cell above

    @property
    def on_the_hour(self) -> bool:
        return self.start.minute == 0


@dataclass
class Column:
    key: int
    label: str


@dataclass
class DayGrid:
    day: date
    by: str
    columns: list[Column]
    rows: list[Row]
    released: list[Appointment]
    unplaced: list[Appointment]
    appointments: list[Appointment]


def day_appointments(location: Location, day: date) -> list[Appointment]:
    start, end = local_day_bounds(location, day)
    return list(Appointment.objects.at_location(location.pk).between(start, end).with_related().order_by("start", "id"))


def build_day_grid(location: Location, day: date, by: str = "practitioner") -> DayGrid:
    appointments = day_appointments(location, day)
    schedules = list(
        StaffSchedule.objects.filter(location=location, weekday=day.weekday())
        .select_related("staff")
        .order_by("staff__last_name", "staff__first_name", "start_time")
    )
    zone = location.zone
    holding = [a for a in appointments if a.status not in RELEASED_STATUSES]
    released = [a for a in appointments if a.status in RELEASED_STATUSES]

    columns: list[Column] = []
    if by == "room":
        rooms = list(Room.objects.active().filter(location=location).order_by("name"))
        seen_rooms = {r.pk for r in rooms}
        rooms += [a.room for a in holding if a.room_id not in seen_rooms and not seen_rooms.add(a.room_id)]  # type: ignore[func-returns-value]
        columns = [Column(r.pk, r.name) for r in rooms]
    else:
        people: dict[int, User] = {}
        for schedule in schedules:
            people.setdefault(schedule.staff_id, schedule.staff)
        for appointment in holding:
            people.setdefault(appointment.practitioner_id, appointment.practitioner)
        columns = [Column(pk, person.display_name) for pk, person in people.items()]

    opens = min([s.start_time for s in schedules] + [DEFAULT_OPEN])
    closes = max([s.end_time for s in schedules] + [DEFAULT_CLOSE])
    grid_start = datetime.combine(day, opens, tzinfo=zone)
    grid_end = datetime.combine(day, closes, tzinfo=zone)
    for appointment in holding:
        grid_start = min(grid_start, appointment.start.astimezone(zone).replace(minute=0, second=0, microsecond=0))
        grid_end = max(grid_end, appointment.end.astimezone(zone))
    count = math.ceil((grid_end - grid_start) / ROW)
    rows = [Row(start=(grid_start + i * ROW).astimezone(zone)) for i in range(count)]
    index = {column.key: n for n, column in enumerate(columns)}
    for row in rows:
        row.cells = [Cell() for _ in columns]

    if by != "room":
        for schedule in schedules:
            n = index[schedule.staff_id]
            window = (
                datetime.combine(day, schedule.start_time, tzinfo=zone),
                datetime.combine(day, schedule.end_time, tzinfo=zone),
            )
            for row in rows:
                cell = row.cells[n]
                if cell is not None and window[0] <= row.start < window[1]:
                    cell.working = True
    else:
        for row in rows:
            for cell in row.cells:
                if cell is not None:
                    cell.working = True

    unplaced: list[Appointment] = []
    for appointment in holding:
        n = index[appointment.room_id if by == "room" else appointment.practitioner_id]
        first = int((appointment.start - grid_start) / ROW)
        span = max(1, math.ceil((appointment.end - grid_start) / ROW) - first)
        covered = range(first, min(first + span, len(rows)))
        if any(rows[i].cells[n] is None or rows[i].cells[n].appointment is not None for i in covered):  # type: ignore[union-attr]
            unplaced.append(appointment)  # off the 15-minute grid and touching a neighbour
            continue
        rows[first].cells[n] = Cell(appointment=appointment, rowspan=len(covered), working=True)
        for i in covered[1:]:
            rows[i].cells[n] = None
    return DayGrid(day, by, columns, rows, released, unplaced, appointments)


def week_days(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def week_appointments(location: Location, day: date) -> dict[date, list[Appointment]]:
    days = week_days(day)
    start, _ = local_day_bounds(location, days[0])
    _, end = local_day_bounds(location, days[-1])
    by_day: dict[date, list[Appointment]] = {d: [] for d in days}
    for appointment in (
        Appointment.objects.at_location(location.pk).between(start, end).with_related().order_by("start", "id")
    ):
        by_day[location.local(appointment.start).date()].append(appointment)
    return by_day
