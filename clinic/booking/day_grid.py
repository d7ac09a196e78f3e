"""The day schedule as a table: time down the side, a column per practitioner or per room.

Appointments become cells spanning their rows (``rowspan``), so the page needs no inline
styles (the CSP forbids them). A fixed number of queries, whatever the number of appointments.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from clinic import hooks
from clinic.models import (
    RELEASED_STATUSES,
    Appointment,
    AppointmentQuerySet,
    AppointmentStatus,
    Location,
    Room,
    StaffSchedule,
    User,
)

ROW = timedelta(minutes=15)
DEFAULT_OPEN, DEFAULT_CLOSE = time(8, 0), time(18, 0)
COLUMNS_PER_PAGE = 12
# The appointment's own columns that a card reads; the names come as columns of the same row
# (CARD_NAMES), not as four joined model instances per card.
CARD_FIELDS = ("status", "start", "end", "location", "patient", "practitioner", "room", "appointment_type")
CARD_NAMES = {
    "card_patient_first": F("patient__first_name"),
    "card_patient_last": F("patient__last_name"),
    "card_practitioner_first": F("practitioner__first_name"),
    "card_practitioner_last": F("practitioner__last_name"),
    "card_practitioner_username": F("practitioner__username"),
    "card_room": F("room__name"),
    "card_type": F("appointment_type__name"),
}


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
    # The column's place, the same every day: practitioners by last name, first name and id,
    # rooms by name and id (never by who happens to have appointments).
    order: tuple[str, str, int] = ("", "", 0)


def person_order(user: User) -> tuple[str, str, int]:
    return (user.last_name.lower(), user.first_name.lower(), user.pk)


def room_order(room: Room) -> tuple[str, str, int]:
    return (room.name.lower(), "", room.pk)


@dataclass
class DayGrid:
    day: date
    by: str
    columns: list[Column]
    rows: list[Row]
    released: list[Appointment]
    unplaced: list[Appointment]
    appointments: list[Appointment]
    page: int = 1
    pages: int = 1
    total_columns: int = 0

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * COLUMNS_PER_PAGE + 1

    @property
    def last_shown(self) -> int:
        return min(self.page * COLUMNS_PER_PAGE, self.total_columns)


def day_appointments(location: Location, day: date) -> list[Appointment]:
    return list(Appointment.objects.on_local_day(location, day).with_related().order_by("start", "id"))


def card_queryset(appointments: AppointmentQuerySet) -> AppointmentQuerySet:
    """Only what a card shows: a busy day is hundreds of cards, each with four names."""
    return (
        appointments.only(*CARD_FIELDS)
        .annotate(**CARD_NAMES)
        # The patient's latest answer to the reminder (confirm / reschedule), in the same
        # query; aftercare provides it (clinic.hooks).
        .annotate(patient_reply=hooks.appointment_reply(), booked_online=hooks.booked_online())
        .order_by("start", "id")
    )


def _fetched_at(location: Location, appointments: AppointmentQuerySet) -> list[Appointment]:
    """The appointments, each holding the page's ``location`` (its predicates read the time zone)
    rather than a copy of it per row."""
    found = list(appointments)
    cache_location = Appointment.location.field.set_cached_value
    for appointment in found:
        cache_location(appointment, location)
    return found


@dataclass(frozen=True, slots=True)
class CardNames:
    """The names a card shows: from the row's columns (card_queryset), or else from the
    appointment's related records (one card after an action)."""

    patient: str
    practitioner: str
    practitioner_order: tuple[str, str, int]
    room: str
    appointment_type: str

    @classmethod
    def of(cls, appointment: Appointment) -> CardNames:
        room = getattr(appointment, "card_room", None)
        if room is None:
            practitioner = appointment.practitioner
            return cls(
                appointment.patient.full_name,
                practitioner.display_name,
                person_order(practitioner),
                appointment.room.name,
                appointment.appointment_type.name,
            )
        row: Any = appointment  # the names are annotations (CARD_NAMES)
        first, last = row.card_practitioner_first, row.card_practitioner_last
        return cls(
            f"{row.card_patient_first} {row.card_patient_last}",
            # As User.display_name: the full name, or else the username.
            f"{first} {last}".strip() or row.card_practitioner_username,
            (last.lower(), first.lower(), appointment.practitioner_id),
            room,
            row.card_type,
        )


def build_day_grid(location: Location, day: date, by: str = "practitioner", page: int = 1) -> DayGrid:
    """The grid for one page of columns (COLUMNS_PER_PAGE practitioners or rooms).

    A large location has dozens of practitioners a day; twelve columns are what a screen
    (and a person) can read, and the page costs the same however many there are.
    Two queries: the columns (working hours, or rooms), then the visible columns' appointments.
    """
    zone = location.zone
    day_qs = card_queryset(Appointment.objects.on_local_day(location, day))
    schedules: list[Any] = []
    if by == "room":
        rooms = sorted(Room.objects.active().filter(location=location), key=room_order)
        pages = max(1, math.ceil(len(rooms) / COLUMNS_PER_PAGE))
        page = min(max(page, 1), pages)
        shown = rooms[(page - 1) * COLUMNS_PER_PAGE : page * COLUMNS_PER_PAGE]
        all_keys = [r.pk for r in rooms]
        # Appointments in the shown rooms, and any in a room no longer in use (they still happen).
        appointments = _fetched_at(
            location, day_qs.filter(Q(room_id__in=[r.pk for r in shown]) | ~Q(room_id__in=all_keys))
        )
        columns = [Column(r.pk, r.name, room_order(r)) for r in shown]
        total = len(rooms)
    else:
        # Rows, not model instances: a large location has dozens of people working a day,
        # and the grid reads only their names and hours.
        schedules = list(
            StaffSchedule.objects.filter(location=location, weekday=day.weekday())
            .order_by("staff__last_name", "staff__first_name", "staff_id", "start_time")
            .values_list(
                "staff_id",
                "start_time",
                "end_time",
                "staff__first_name",
                "staff__last_name",
                "staff__username",
                named=True,
            )
        )
        people: dict[int, tuple[str, tuple[str, str, int]]] = {}
        for schedule in schedules:
            if schedule.staff_id not in people:
                first, last = schedule.staff__first_name, schedule.staff__last_name
                # As User.display_name and person_order.
                name = f"{first} {last}".strip() or schedule.staff__username
                people[schedule.staff_id] = (name, (last.lower(), first.lower(), schedule.staff_id))
        people = dict(sorted(people.items(), key=lambda item: item[1][1]))
        pages = max(1, math.ceil(len(people) / COLUMNS_PER_PAGE))
        page = min(max(page, 1), pages)
        shown_ids = list(people)[(page - 1) * COLUMNS_PER_PAGE : page * COLUMNS_PER_PAGE]
        # The shown practitioners' appointments, and any of someone not working here that day.
        appointments = _fetched_at(
            location, day_qs.filter(Q(practitioner_id__in=shown_ids) | ~Q(practitioner_id__in=list(people)))
        )
        columns = [Column(pk, *people[pk]) for pk in shown_ids]
        schedules = [s for s in schedules if s.staff_id in set(shown_ids)]
        total = len(people)
    holding = [a for a in appointments if a.status not in RELEASED_STATUSES]
    released = [a for a in appointments if a.status in RELEASED_STATUSES]
    known = {c.key for c in columns}
    for appointment in holding:
        key = appointment.room_id if by == "room" else appointment.practitioner_id
        if key not in known:
            known.add(key)
            names = CardNames.of(appointment)
            if by == "room":
                columns.append(Column(key, names.room, (names.room.lower(), "", key)))
            else:
                columns.append(Column(key, names.practitioner, names.practitioner_order))
    columns.sort(key=lambda column: column.order)

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
        if any((cell := rows[i].cells[n]) is None or cell.appointment is not None for i in covered):
            unplaced.append(appointment)  # off the 15-minute grid and touching a neighbour
            continue
        rows[first].cells[n] = Cell(appointment=appointment, rowspan=len(covered), working=True)
        for i in covered[1:]:
            rows[i].cells[n] = None
    return DayGrid(day, by, columns, rows, released, unplaced, appointments, page, pages, total)


def week_days(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def week_appointments(location: Location, day: date) -> dict[date, list[Appointment]]:
    days = week_days(day)
    start, _ = location.day_bounds(days[0])
    _, end = location.day_bounds(days[-1])
    by_day: dict[date, list[Appointment]] = {d: [] for d in days}
    for appointment in (
        Appointment.objects.at_location(location.pk).between(start, end).with_related().order_by("start", "id")
    ):
        by_day[location.local(appointment.start).date()].append(appointment)
    return by_day


# --- HTML for the grid ----------------------------------------------------------------------
# A busy location's day has hundreds of cards. Built here, once, with every value escaped,
# the page renders in a few milliseconds instead of seconds of template-engine work; the
# htmx swap of one card (front_desk_home.html#appointment_card) uses the same function.


@dataclass(frozen=True)
class CardText:
    """The translated words of a card, looked up and HTML-escaped once per request."""

    statuses: dict[str, str]
    check_in: str
    no_show: str
    cancel: str
    move: str
    no_show_question: str
    cancel_question: str
    cancel_reason: str
    replies: dict[str, str]
    booked_online: str

    @classmethod
    def now(cls) -> CardText:
        return cls(
            statuses={status.value: _escape(str(status.label)) for status in AppointmentStatus},
            check_in=_escape(gettext("Check in")),
            no_show=_escape(gettext("No-show")),
            cancel=_escape(gettext("Cancel")),
            move=_escape(gettext("Move")),
            no_show_question=_escape(gettext("Mark as a no-show?")),
            cancel_question=_escape(gettext("Cancel this appointment? The time becomes free for others.")),
            cancel_reason=_escape(gettext("Reason for cancelling")),
            replies={
                "confirm": _escape(gettext("Patient confirmed")),
                "reschedule": _escape(gettext("Asks to reschedule")),
            },
            booked_online=_escape(gettext("Booked online")),
        )


def _escape(value: str) -> str:
    return html.escape(value, quote=True)


# Any pk: it stands in for the real one when a path is resolved, then is cut out.
_PLACEHOLDER_PK = 2147483647


@dataclass(frozen=True)
class CardPath:
    """One URL of a card, resolved with reverse() once per request and filled in per card.

    Both parts are HTML-escaped once here; a pk adds only digits.
    """

    before: str
    after: str

    @classmethod
    def of(cls, url_name: str) -> CardPath:
        before, _, after = reverse(url_name, args=[_PLACEHOLDER_PK]).partition(str(_PLACEHOLDER_PK))
        return cls(escape(before), escape(after))

    def __call__(self, pk: int) -> str:
        return f"{self.before}{pk}{self.after}"


@dataclass(frozen=True)
class CardPaths:
    detail: CardPath
    status: CardPath
    cancel: CardPath
    move: CardPath

    @classmethod
    def now(cls) -> CardPaths:
        return cls(
            detail=CardPath.of("clinic:appointment_detail"),
            status=CardPath.of("clinic:appointment_status"),
            cancel=CardPath.of("clinic:appointment_cancel"),
            move=CardPath.of("clinic:appointment_reschedule"),
        )


def _booked_online(appointment: Appointment) -> bool:
    found = getattr(appointment, "booked_online", None)
    if found is None:  # a card rendered on its own (after an action): one query
        found = (
            Appointment.objects.filter(pk=appointment.pk)
            .annotate(online=hooks.booked_online())
            .values_list("online", flat=True)
            .first()
        )
    return bool(found)


def render_card(
    appointment: Appointment,
    *,
    zone: ZoneInfo,
    csrf: str,
    here: str,
    text: CardText,
    paths: CardPaths,
    can_act: bool = True,
    now: datetime | None = None,
) -> SafeString:
    """One card. ``can_act``: the desk's buttons, and an open card can be dragged to a free
    slot (static/js/schedule.js); without it (the manager reads the day) the card only links.

    ``text`` comes escaped; every other value is escaped here (``_escape``: the same as
    django.utils.html.escape without its lazy-string wrapper, which cost more than the card)."""
    pk = appointment.pk
    status = appointment.status
    names = CardNames.of(appointment)
    patient = _escape(names.patient)
    start = appointment.start.astimezone(zone).strftime("%H:%M")
    end = appointment.end.astimezone(zone).strftime("%H:%M")
    movable = can_act and appointment.is_open
    drag = f' draggable="true" data-pk="{pk}"' if movable else ""
    # Words, not a colour: read aloud and printed as they are.
    online = (
        f'<div><span class="badge text-bg-light border booked-online">{text.booked_online}</span></div>'
        if _booked_online(appointment)
        else ""
    )
    parts = [
        f'<div class="appointment-card appointment-{status}" id="appointment-{pk}"{drag}>'
        '<div class="d-flex justify-content-between align-items-start gap-2">'
        f'<a class="appointment-patient" href="{paths.detail(pk)}">{patient}</a>'
        f'<span class="badge status-badge status-{status}">{text.statuses[status]}</span></div>'
        f'<div class="appointment-meta">{start}–{end} · {_escape(names.appointment_type)}</div>'
        f"{online}"
        f'<div class="appointment-meta">{_escape(names.practitioner)} · {_escape(names.room)}</div>'
    ]
    reply = getattr(appointment, "patient_reply", None)
    if reply in text.replies:
        icon = "envelope-check" if reply == "confirm" else "envelope-exclamation"
        parts.append(
            f'<div class="appointment-reply reply-{reply}"><i class="bi bi-{icon}" aria-hidden="true"></i> '
            f"{text.replies[reply]}</div>"
        )
    if movable:
        status_url = paths.status(pk)
        cancel_url = paths.cancel(pk)
        target = f'hx-target="#appointment-{pk}" hx-swap="outerHTML"'
        hidden = f'<span class="visually-hidden"> {patient}</span>'
        # The same predicates the status change enforces (Appointment.check_in / mark_no_show):
        # a button shows only when pressing it can succeed now.
        moment = now or timezone.now()
        check_in_button = (
            f'<button type="submit" name="status" value="checked_in" class="btn btn-sm btn-primary" '
            f'hx-post="{status_url}" {target}>{text.check_in}{hidden}</button>'
            if appointment.can_become(AppointmentStatus.CHECKED_IN) and appointment.check_in_open(moment)
            else ""
        )
        no_show_button = (
            f'<button type="submit" name="status" value="no_show" class="btn btn-sm btn-outline-secondary" '
            f'hx-post="{status_url}" {target} hx-confirm="{text.no_show_question} {patient}">'
            f"{text.no_show}{hidden}</button>"
            if appointment.can_become(AppointmentStatus.NO_SHOW) and appointment.no_show_open(moment)
            else ""
        )
        parts.append(
            '<form class="appointment-actions d-flex flex-wrap gap-1 mt-1 d-print-none" method="post" '
            f'action="{status_url}">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{_escape(csrf)}">'
            f'<input type="hidden" name="next" value="{_escape(here)}">'
            + check_in_button
            + no_show_button
            + f'<button type="submit" formaction="{cancel_url}" class="btn btn-sm btn-outline-danger" '
            f'hx-post="{cancel_url}" {target} hx-confirm="{text.cancel_question} ({patient})" '
            f'data-reason-dialog="{text.cancel_reason}" data-confirm-danger>'
            f"{text.cancel}{hidden}</button>"
            # The keyboard's way to move it (dragging needs a pointer).
            f'<a class="btn btn-sm btn-outline-secondary" href="{paths.move(pk)}">{text.move}{hidden}</a>'
            "</form>"
        )
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308  (every value above is escaped)


def render_grid_body(grid: DayGrid, *, zone: ZoneInfo, csrf: str, here: str, can_act: bool = True) -> SafeString:
    """The rows. A free slot carries only its column's key (``data-col``) and its row the time
    (``data-time``): clicking or dropping on it (static/js/schedule.js) reads the rest from the
    table, so the hundreds of empty cells add a few bytes each, no URL."""
    text, paths, now = CardText.now(), CardPaths.now(), timezone.now()
    keys = [str(column.key) for column in grid.columns]
    free = (
        '<td class="schedule-slot schedule-free" data-col="{}"></td>' if can_act else '<td class="schedule-slot"></td>'
    )
    out: list[str] = []
    for row in grid.rows:
        label = row.start.strftime("%H:%M")
        time_cell = label if row.on_the_hour else f'<span class="visually-hidden">{label}</span>'
        out.append(
            f'<tr data-time="{label}"{" class=" + chr(34) + "schedule-hour" + chr(34) if row.on_the_hour else ""}>'
            f'<th scope="row" class="schedule-time">{time_cell}</th>'
        )
        for n, cell in enumerate(row.cells):
            if cell is None:
                continue
            if cell.appointment is not None:
                card = render_card(
                    cell.appointment, zone=zone, csrf=csrf, here=here, text=text, paths=paths, can_act=can_act, now=now
                )
                out.append(f'<td rowspan="{cell.rowspan}" class="schedule-slot schedule-busy">{card}</td>')
            elif cell.working:
                out.append(free.format(keys[n]))
            else:
                out.append('<td class="schedule-slot schedule-off"></td>')
        out.append("</tr>")
    return mark_safe("".join(out))  # noqa: S308  (built from escaped values and fixed markup)


def render_cards(
    appointments: list[Appointment], *, zone: ZoneInfo, csrf: str, here: str, can_act: bool = True
) -> list[SafeString]:
    text, paths, now = CardText.now(), CardPaths.now(), timezone.now()
    return [
        render_card(a, zone=zone, csrf=csrf, here=here, text=text, paths=paths, can_act=can_act, now=now)
        for a in appointments
    ]


def day_status_counts(location: Location, day: date) -> list[tuple[str, str, int]]:
    """The counters above the grid: (status, label, how many) for the whole day at ``location``,
    in the statuses' order, in one small query (the page, and again after an htmx action)."""
    found = dict(
        Appointment.objects.on_local_day(location, day).values_list("status").annotate(n=Count("id")).order_by()
    )
    return [
        (status.value, str(status.label), found[status.value])
        for status in AppointmentStatus
        if found.get(status.value)
    ]
