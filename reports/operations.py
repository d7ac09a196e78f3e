# ruff: noqa: S608
# The SQL here is built from table names (Model._meta), fixed fragments and choice values
# defined in code; every value that comes from a request is a bound parameter.
"""Operations reports (the manager): appointments, utilisation, the programme funnel,
rebooking and the overdue worklist, aftercare messages. Each is a few aggregate queries."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftercare.models import CheckIn, CheckInAnswer, Message, MessageStatus
from clinic.field_groups import FieldGroup, sees
from clinic.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    Location,
    Patient,
    Room,
    StaffSchedule,
    TimeOff,
    User,
)
from consultations.models import Consultation, TreatmentPlan
from reports import summaries
from reports.forms import Filters
from reports.framework import (
    Cell,
    Drill,
    Report,
    ReportSpec,
    Table,
    base_params,
    number,
    on_local_days,
    percent,
    phone_cell,
    rows,
)
from reports.summaries import (
    APPOINTMENT_DAY,
    BOOKED_DAY,
    FUNNEL,
    FUNNEL_DAY,
    FUNNEL_REACHED,
    MESSAGE_DAY,
    MESSAGE_LAG,
    PLAN_PROGRESS,
    SESSION_REBOOKED,
    WORRIED_CHECKIN,
)
from treatments.charts import bar_chart, line_chart
from treatments.models import ProgressReview, TreatmentSession

T = {
    "appt": Appointment._meta.db_table,
    "type": AppointmentType._meta.db_table,
    "change": AppointmentStatusChange._meta.db_table,
    "user": User._meta.db_table,
    "room": Room._meta.db_table,
    "schedule": StaffSchedule._meta.db_table,
    "timeoff": TimeOff._meta.db_table,
    "location": Location._meta.db_table,
    "patient": Patient._meta.db_table,
    "consultation": Consultation._meta.db_table,
    "plan": TreatmentPlan._meta.db_table,
    "session": TreatmentSession._meta.db_table,
    "review": ProgressReview._meta.db_table,
    "message": Message._meta.db_table,
    "checkin": CheckIn._meta.db_table,
}
RECORDS_LIMIT = 500
RELEASED = "('cancelled', 'no_show')"


def _name(row: dict[str, Any], first: str = "first_name", last: str = "last_name") -> str:
    return f"{row[first]} {row[last]}".strip()


def _staff_name(row: dict[str, Any]) -> str:
    return f"{row['staff_first']} {row['staff_last']}".strip() or row["username"]


# --- Appointments by type and status --------------------------------------------------------

# The counts come from the appointment-day summary (reports/summaries.py), a few rows per
# location and local day: the range is each location's own local days, as in utilisation.
# A cancellation is late when its notice in whole hours (lead_h) is under the chosen hours:
# summaries.APPOINTMENT_DAY_SQL shows this is the raw rule (a change to 'cancelled' later than
# the start less the chosen hours).
APPOINTMENTS_SQL = f"""
SELECT t.id AS type_id, t.name AS type_name, d.status, sum(d.n)::bigint AS n,
  coalesce(sum(d.n) FILTER (WHERE d.status = 'cancelled' AND d.lead_h < %(late)s), 0)::bigint AS late,
  sum(d.first_visit)::bigint AS first_visit
FROM {APPOINTMENT_DAY} d JOIN {T["type"]} t ON t.id = d.appointment_type_id
WHERE d.location_id = ANY(%(locs)s) AND d.day BETWEEN %(first)s AND %(last)s
GROUP BY t.id, t.name, d.status
ORDER BY t.name, d.status
"""

STATUSES = tuple(AppointmentStatus)


def appointments_build(filters: Filters, user: User, drill: Drill) -> Report:
    found = rows(APPOINTMENTS_SQL, base_params(filters) | {"late": filters.late_hours})
    by_type: dict[int, dict[str, Any]] = {}
    for row in found:
        entry = by_type.setdefault(
            row["type_id"], {"name": row["type_name"], "status": defaultdict(int), "late": 0, "first": 0}
        )
        entry["status"][row["status"]] += row["n"]
        entry["late"] += row["late"]
        entry["first"] += row["first_visit"]
    table_rows = []
    totals: dict[str, int] = defaultdict(int)
    for type_id, entry in by_type.items():
        counts = entry["status"]
        total = sum(counts.values())
        expected = total - counts[AppointmentStatus.CANCELLED]
        cells = [Cell(entry["name"])]
        for status in STATUSES:
            cells.append(Cell(str(counts[status]), drill(type=type_id, status=status.value), numeric=True))
            totals[status] += counts[status]
        cells += [
            Cell(str(total), drill(type=type_id), numeric=True),
            Cell(
                percent(counts[AppointmentStatus.NO_SHOW], expected),
                drill(type=type_id, status="no_show"),
                expected,
                True,
            ),
            Cell(str(entry["late"]), drill(type=type_id, status="late"), numeric=True),
            Cell(percent(entry["late"], total), drill(type=type_id, status="late"), total, True),
            Cell(str(entry["first"]), drill(type=type_id, status="first"), numeric=True),
        ]
        totals["late"] += entry["late"]
        totals["first"] += entry["first"]
        table_rows.append(tuple(cells))
    total = sum(totals[s] for s in STATUSES)
    expected = total - totals[AppointmentStatus.CANCELLED]
    table_rows.append(
        (
            Cell(_("All types")),
            *(Cell(str(totals[s]), drill(status=s.value), numeric=True) for s in STATUSES),
            Cell(str(total), drill(), numeric=True),
            Cell(percent(totals[AppointmentStatus.NO_SHOW], expected), drill(status="no_show"), expected, True),
            Cell(str(totals["late"]), drill(status="late"), numeric=True),
            Cell(percent(totals["late"], total), drill(status="late"), total, True),
            Cell(str(totals["first"]), drill(status="first"), numeric=True),
        )
    )
    headers = (
        _("Type"),
        *(str(s.label) for s in STATUSES),
        _("Total"),
        _("No-show rate"),
        _("Late cancellations"),
        _("Late cancellation rate"),
        _("First-visit consultations"),
    )
    names = [entry["name"] for entry in by_type.values()]
    chart = bar_chart(
        title=_("Appointments by type"),
        x_labels=names or [_("none")],
        series=[
            (str(s.label), [entry["status"][s] for entry in by_type.values()] or [0])
            for s in (AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
        ],
    )
    figures = [
        (_("Appointments"), Cell(str(total), drill())),
        (
            _("No-show rate"),
            Cell(percent(totals[AppointmentStatus.NO_SHOW], expected), drill(status="no_show"), expected),
        ),
        (_("Late cancellations"), Cell(str(totals["late"]), drill(status="late"))),
        (_("First-visit consultations"), Cell(str(totals["first"]), drill(status="first"))),
    ]
    return Report(
        [Table(_("Appointments by type and status"), headers, tuple(table_rows))],
        chart,
        figures,
        notes=[summaries.refreshed_note(APPOINTMENT_DAY, filters.zone)],
    )


# The records behind a figure of the appointments or the utilisation report: the range (and
# a drilled day or week) is each location's own local days, as the summaries those reports
# read count them (framework.on_local_days).
APPOINTMENT_RECORDS_SQL = f"""
SELECT a.id, a.start, a.status, t.name AS type_name, p.first_name, p.last_name,
  u.first_name AS staff_first, u.last_name AS staff_last, u.username
FROM {T["appt"]} a JOIN {T["type"]} t ON t.id = a.appointment_type_id
JOIN {T["location"]} l ON l.id = a.location_id
JOIN {T["patient"]} p ON p.id = a.patient_id JOIN {T["user"]} u ON u.id = a.practitioner_id
WHERE a.location_id = ANY(%(locs)s)
  AND {on_local_days("a.start")}
  AND (%(type)s::bigint IS NULL OR a.appointment_type_id = %(type)s)
  AND (%(practitioner)s::bigint IS NULL OR a.practitioner_id = %(practitioner)s)
  AND (%(room)s::bigint IS NULL OR a.room_id = %(room)s)
  AND (%(day)s::date IS NULL OR (a.start AT TIME ZONE l.time_zone)::date
       BETWEEN %(day)s::date AND %(day)s::date + %(days)s - 1)
  AND CASE %(status)s
    WHEN '' THEN true
    WHEN 'late' THEN a.status = 'cancelled' AND EXISTS (
      SELECT 1 FROM {T["change"]} c WHERE c.appointment_id = a.id AND c.to_status = 'cancelled'
        AND c.at > a.start - make_interval(hours => %(late)s))
    WHEN 'first' THEN t.kind = 'consultation' AND a.status NOT IN {RELEASED} AND NOT EXISTS (
      SELECT 1 FROM {T["appt"]} q WHERE q.patient_id = a.patient_id AND q.start < a.start
        AND q.status NOT IN {RELEASED})
    WHEN 'held' THEN a.status NOT IN {RELEASED}
    ELSE a.status = %(status)s END
ORDER BY a.start, a.id
LIMIT {RECORDS_LIMIT}
"""


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _day_or_none(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def appointment_records(filters: Filters, params: dict[str, str], user: User) -> Table:
    found = rows(
        APPOINTMENT_RECORDS_SQL,
        base_params(filters)
        | {
            "late": filters.late_hours,
            "type": _int_or_none(params.get("type")),
            "practitioner": _int_or_none(params.get("practitioner")),
            "room": _int_or_none(params.get("room")),
            "day": _day_or_none(params.get("day")),
            "days": 7 if params.get("period") == "week" else 1,
            "status": params.get("status", "")[:20],
        },
    )
    labels = dict(AppointmentStatus.choices)
    return Table(
        _("Appointments"),
        (_("Starts"), _("Type"), _("Status"), _("Patient"), _("Practitioner")),
        tuple(
            (
                Cell(
                    timezone.localtime(r["start"]).strftime("%Y-%m-%d %H:%M"),
                    reverse("clinic:appointment_detail", args=[r["id"]]),
                ),
                Cell(r["type_name"]),
                Cell(str(labels.get(r["status"], r["status"]))),
                Cell(_name(r)),
                Cell(_staff_name(r)),
            )
            for r in found
        ),
    )


# --- Utilisation -----------------------------------------------------------------------------

# Booked minutes come from the booked-day summary (reports/summaries.py), a row per
# practitioner, room and day, by the location's local day.
# Working minutes: each shift (wall-clock hours in its location's zone, so 09:00 stays 09:00
# across DST) as a time range, less the staff member's time off (the ranges merged first, so
# two overlapping absences are not subtracted twice). A room is open from the first to the
# last minute anyone is still working at its location that day.
# Each side is summed per practitioner (or room) and period before the two are paired, and a
# day is truncated to its period as a timestamp without a zone (plain date arithmetic: the
# days are local days already).
UTILISATION_SQL = f"""
WITH days AS (
  SELECT d::date AS day FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
),
off AS (
  SELECT o.staff_id, range_agg(tstzrange(o.start, o."end")) AS ranges
  FROM {T["timeoff"]} o
  WHERE o.start < %(end)s + interval '1 day' AND o."end" > %(start)s - interval '1 day'
  GROUP BY o.staff_id
),
shifts AS (
  -- free: the shift less time off, only for those with time off in the range (the rest, most
  -- rows, skip the range arithmetic).
  SELECT s.staff_id, s.location_id, days.day, b.lo, b.hi,
    CASE WHEN off.ranges IS NOT NULL THEN tstzmultirange(tstzrange(b.lo, b.hi)) - off.ranges END AS free
  FROM days JOIN {T["schedule"]} s ON s.weekday = extract(isodow FROM days.day)::int - 1
  JOIN {T["location"]} l ON l.id = s.location_id
  CROSS JOIN LATERAL (
    SELECT (days.day + s.start_time) AT TIME ZONE l.time_zone AS lo,
      (days.day + s.end_time) AT TIME ZONE l.time_zone AS hi
  ) b
  LEFT JOIN off ON off.staff_id = s.staff_id
  WHERE s.location_id = ANY(%(locs)s)
),
work AS (
  -- Straight to each practitioner's period (not per day first): the join below then pairs a
  -- row per practitioner and period, not one per day.
  SELECT staff_id, date_trunc(%(period)s, day::timestamp)::date AS period,
    sum(CASE WHEN free IS NULL THEN extract(epoch FROM hi - lo)
      ELSE (SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0) FROM unnest(free) AS r)
    END) / 60 AS minutes
  FROM shifts
  GROUP BY 1, 2
),
booked AS (
  SELECT b.practitioner_id AS staff_id, date_trunc(%(period)s, b.day::timestamp)::date AS period,
    sum(b.minutes) AS minutes
  FROM {BOOKED_DAY} b
  WHERE b.location_id = ANY(%(locs)s) AND b.day BETWEEN %(first)s AND %(last)s
  GROUP BY 1, 2
),
open_hours AS (
  -- Each day's open minutes at a location, summed per period: the same for every room there.
  SELECT location_id, date_trunc(%(period)s, day::timestamp)::date AS period, sum(minutes) AS minutes
  FROM (
    SELECT location_id, day,
      extract(epoch FROM max(coalesce(upper(free), hi)) - min(coalesce(lower(free), lo))) / 60 AS minutes
    FROM shifts WHERE free IS NULL OR NOT isempty(free)
    GROUP BY location_id, day
  ) d
  GROUP BY 1, 2
),
room_work AS (
  SELECT r.id AS room_id, o.period, o.minutes FROM {T["room"]} r JOIN open_hours o ON o.location_id = r.location_id
  WHERE r.is_active
),
room_booked AS (
  SELECT b.room_id, date_trunc(%(period)s, b.day::timestamp)::date AS period, sum(b.minutes) AS minutes
  FROM {BOOKED_DAY} b
  WHERE b.location_id = ANY(%(locs)s) AND b.day BETWEEN %(first)s AND %(last)s
  GROUP BY 1, 2
)
SELECT 'practitioner' AS kind, u.id, u.first_name AS staff_first, u.last_name AS staff_last,
  u.username, coalesce(w.period, b.period) AS period,
  coalesce(b.minutes, 0)::float AS booked, coalesce(w.minutes, 0)::float AS work
FROM work w FULL JOIN booked b ON b.staff_id = w.staff_id AND b.period = w.period
JOIN {T["user"]} u ON u.id = coalesce(w.staff_id, b.staff_id)
UNION ALL
SELECT 'room', r.id, r.name, '', '', coalesce(w.period, b.period),
  coalesce(b.minutes, 0)::float, coalesce(w.minutes, 0)::float
FROM room_work w FULL JOIN room_booked b ON b.room_id = w.room_id AND b.period = w.period
JOIN {T["room"]} r ON r.id = coalesce(w.room_id, b.room_id)
-- The id before the period: two people of the same name keep their rows apart.
ORDER BY 1, 3, 4, 2, 6
"""

PERIODS = (("week", gettext_lazy("By week")), ("day", gettext_lazy("By day")))


def utilisation_build(filters: Filters, user: User, drill: Drill) -> Report:
    period = filters.by if filters.by in ("day", "week") else "week"
    found = rows(UTILISATION_SQL, base_params(filters) | {"period": period})
    table_rows = []
    # Keyed by the practitioner's id: two people of the same name are two lines.
    series: dict[int, tuple[str, dict[date, float]]] = {}
    periods: set[date] = set()
    # A row per practitioner or room and period (thousands for a big location over a year):
    # the link's common part (the filters, the period, kept appointments) is encoded once and
    # each row appends its own id and day, which need no escaping (an integer, an ISO date).
    held = drill(period=period, status="held")
    of = {"practitioner": Cell(_("Practitioner")), "room": Cell(_("Room"))}
    for r in found:
        kind = r["kind"]
        name = _staff_name(r) if kind == "practitioner" else r["staff_first"]
        day = r["period"].isoformat()
        link = f"{held}&{kind}={int(r['id'])}&day={day}"
        table_rows.append(
            (
                of[kind],
                Cell(name),
                Cell(day),
                Cell(number(r["booked"], 0), link, numeric=True),
                Cell(number(r["work"], 0), numeric=True),
                Cell(percent(r["booked"], r["work"]), link, numeric=True),
            )
        )
        if r["kind"] == "practitioner":
            periods.add(r["period"])
            series.setdefault(r["id"], (name, {}))[1][r["period"]] = (100 * r["booked"] / r["work"]) if r["work"] else 0
    ordered = sorted(periods)
    chart = line_chart(
        title=_("Practitioners' utilisation, % of working minutes"),
        x_labels=[p.strftime("%d %b") for p in ordered] or [_("none")],
        series=[
            (name, [round(values.get(p, 0)) for p in ordered] or [0]) for name, values in list(series.values())[:8]
        ],
    )
    return Report(
        [
            Table(
                _("Booked minutes ÷ working minutes"),
                (
                    _("Of"),
                    _("Name"),
                    _("Day or week from"),
                    _("Booked minutes"),
                    _("Working minutes"),
                    _("Utilisation"),
                ),
                tuple(table_rows),
            )
        ],
        chart,
        notes=[
            _(
                "Working minutes are the weekly working hours less time off; a room is open from the first to "
                "the last minute anyone works at its location that day, time off taken into account."
            ),
            summaries.refreshed_note(BOOKED_DAY, filters.zone),
        ],
    )


# --- Percentiles from histograms (the funnel, aftercare) -------------------------------------

# Percentiles of histograms, exactly as percentile_cont computes them over the values one by
# one: sorted, the value at position p × (N − 1) counted from 0, interpolated linearly between
# the two around it; the k-th value (from 0) is the least whose running count ("upto": the
# values up to it) exceeds k. Follows a CTE lags(key, lag, n): for each histogram (key) each
# value (lag, ascending) and how many have it. Makes running(key, lag, upto, total) and
# pct(key, p, value) for p = 0.5 and 0.95 (the funnel reads only the median).
HISTOGRAM_PERCENTILES = """running AS (
  SELECT key, lag, (sum(n) OVER (PARTITION BY key ORDER BY lag))::bigint AS upto,
    (sum(n) OVER (PARTITION BY key))::bigint AS total
  FROM lags
), positions AS (
  SELECT r.key, v.p, v.p * (max(r.total)::float8 - 1) AS k
  FROM running r CROSS JOIN (VALUES (0.5::float8), (0.95::float8)) AS v(p) GROUP BY r.key, v.p
), pct AS (
  SELECT x.key, x.p, b.lo + (b.hi - b.lo) * (x.k - floor(x.k)) AS value
  FROM positions x CROSS JOIN LATERAL (
    SELECT min(r.lag) FILTER (WHERE r.upto > floor(x.k))::float8 AS lo,
      min(r.lag) FILTER (WHERE r.upto > ceil(x.k))::float8 AS hi
    FROM running r WHERE r.key = x.key
  ) b
)"""


# --- Programme funnel ------------------------------------------------------------------------

# The range: consultations whose appointment's local day (at its location) is in the range,
# as the funnel-day summary counts them; on a row f of the funnel summary (one per
# consultation, with its location l).
FUNNEL_WHERE = f"""f.location_id = ANY(%(locs)s)
  AND {on_local_days("f.start")}"""

# The drill-down's consultations, from the funnel summary (summaries.FUNNEL_REACHED decides
# the steps, as in the funnel-day summary). MATERIALIZED: each step reads the timestamps
# several times; inlined, PostgreSQL would repeat the per-plan subqueries for every reference
# (when the summary's query stands in for it).
FUNNEL_CTE = f"""
WITH c AS MATERIALIZED (
  SELECT f.id, f.patient_id, f.t1, f.t2, f.t3, f.t4, f.t5, f.t6
  FROM {FUNNEL} f JOIN {T["location"]} l ON l.id = f.location_id WHERE {FUNNEL_WHERE}
), steps AS (
  SELECT c.*, {FUNNEL_REACHED}
  FROM c
)
"""

# The figures, from the funnel-day summary (a few rows per location, day and step): each
# step's consultations summed over the range, and the median whole days since the step before
# from the summed lag histograms (HISTOGRAM_PERCENTILES, keyed by step). A row per step
# reached by anyone.
FUNNEL_SQL = f"""
WITH d AS (
  SELECT s.step, s.n, s.lags, s.counts FROM {FUNNEL_DAY} s
  WHERE s.location_id = ANY(%(locs)s) AND s.day BETWEEN %(first)s AND %(last)s
), lags AS (
  SELECT d.step AS key, h.lag, sum(h.n) AS n FROM d CROSS JOIN LATERAL unnest(d.lags, d.counts) AS h(lag, n)
  GROUP BY d.step, h.lag
), {HISTOGRAM_PERCENTILES}
SELECT d.step, sum(d.n)::bigint AS n, (SELECT pct.value FROM pct WHERE pct.key = d.step AND pct.p = 0.5) AS days
FROM d GROUP BY d.step ORDER BY d.step
"""

FUNNEL_STEPS = (
    gettext_lazy("Consultation signed"),
    gettext_lazy("Extraction recommended"),
    gettext_lazy("Plan consented"),
    gettext_lazy("Session 1 attended"),
    gettext_lazy("Plan completed"),
    gettext_lazy("Progress review attended"),
)


def funnel_build(filters: Filters, user: User, drill: Drill) -> Report:
    by_step = {r["step"]: r for r in rows(FUNNEL_SQL, base_params(filters))}
    table_rows = []
    counts = [by_step[i]["n"] if i in by_step else 0 for i in range(1, 7)]
    for i, label in enumerate(FUNNEL_STEPS, start=1):
        n = counts[i - 1]
        previous = counts[i - 2] if i > 1 else None
        days = by_step[i]["days"] if i in by_step else None
        table_rows.append(
            (
                Cell(f"{i}. {label}"),
                Cell(str(n), drill(step=i), numeric=True),
                Cell(percent(n, previous) if previous is not None else "—", drill(step=i), previous, True),
                Cell(percent(n, counts[0]), drill(step=i), counts[0], True),
                Cell(number(days) if days is not None else "—", drill(step=i), numeric=True),
            )
        )
    chart = bar_chart(
        title=_("Patients reaching each step"), x_labels=[str(i) for i in range(1, 7)], series=[(_("Patients"), counts)]
    )
    return Report(
        [
            Table(
                _("Programme funnel (consultations in the range)"),
                (
                    _("Step"),
                    _("Reached"),
                    _("From the step before"),
                    _("From consultation"),
                    _("Median whole days since the step before"),
                ),
                tuple(table_rows),
            )
        ],
        chart,
        notes=[summaries.refreshed_note(FUNNEL_DAY, filters.zone)],
    )


def funnel_records(filters: Filters, params: dict[str, str], user: User) -> Table:
    step = _int_or_none(params.get("step")) or 1
    step = min(max(step, 1), 6)
    condition = "true" if step == 1 else f"s{step}"
    found = rows(
        FUNNEL_CTE
        + f"""SELECT steps.id, steps.t1, p.first_name, p.last_name FROM steps
        JOIN {T["patient"]} p ON p.id = steps.patient_id WHERE {condition} ORDER BY steps.t1 LIMIT {RECORDS_LIMIT}""",
        base_params(filters),
    )
    return Table(
        _("Consultations reaching step %(step)s") % {"step": step},
        (_("Consultation signed"), _("Patient")),
        tuple(
            (
                Cell(
                    timezone.localtime(x["t1"]).strftime("%Y-%m-%d"),
                    reverse("consultations:consultation_detail", args=[x["id"]]),
                ),
                Cell(_name(x)),
            )
            for x in found
        ),
    )


# --- Rebooking and the overdue worklist ------------------------------------------------------

# A session "leaves with the next one booked" when another appointment of the patient that
# starts later was made by the end of the session's (local) day. Only sessions that expect a
# next one count: not the plan's last.
REBOOKING_CTE = f"""
WITH s AS (
  SELECT s.id, s.aesthetician_id, a.start, s.patient_id,
    EXISTS (SELECT 1 FROM {T["appt"]} n WHERE n.patient_id = s.patient_id AND n.start > a.start
      AND n.created_at < (date_trunc('day', a.start AT TIME ZONE %(zone)s) + interval '1 day') AT TIME ZONE %(zone)s
    ) AS rebooked
  FROM {T["session"]} s JOIN {T["appt"]} a ON a.id = s.appointment_id
  WHERE s.status = 'signed' AND a.start >= %(start)s AND a.start < %(end)s AND a.location_id = ANY(%(locs)s)
    AND (s.sessions_planned IS NULL OR s.session_number < s.sessions_planned)
)
"""

# The share reads the session-rebooked summary (the same definition, per session, refreshed
# from beat); the drill-down lists the sessions live.
REBOOKING_SQL = f"""
WITH s AS (
  SELECT * FROM {SESSION_REBOOKED}
  WHERE location_id = ANY(%(locs)s) AND start >= %(start)s AND start < %(end)s
)

SELECT s.aesthetician_id AS id, u.first_name AS staff_first, u.last_name AS staff_last, u.username,
  count(*) AS sessions, count(*) FILTER (WHERE rebooked) AS rebooked
FROM s JOIN {T["user"]} u ON u.id = s.aesthetician_id
GROUP BY GROUPING SETS ((s.aesthetician_id, u.first_name, u.last_name, u.username), ())
ORDER BY s.aesthetician_id NULLS LAST
"""

# The candidates come from the plan-progress summary through its (location, due day) index,
# oldest due first; each is re-checked against the live rows, so a plan completed, put on hold
# or given a signed session, or its patient a visit, since the last refresh drops out at once.
# (A plan consented, or a visit cancelled, since then changes the list at the next refresh.)
# One row more than the list shows tells "more".
OVERDUE_SQL = f"""
SELECT pl.id AS plan_id, p.id AS patient_id, p.first_name, p.last_name, p.phone, p.email,
  pl.interval_days, pl.sessions_planned, c.done, c.last_start, c.due_on
FROM unnest(%(locs)s::bigint[]) AS loc(id)
CROSS JOIN LATERAL (
  -- Per location, so the index gives the order and the scan stops at the list's length.
  SELECT pp.plan_id, pp.patient_id, pp.done, pp.last_start, pp.due_on
  FROM {PLAN_PROGRESS} pp JOIN {T["plan"]} live ON live.id = pp.plan_id
  WHERE pp.location_id = loc.id AND pp.due_on < %(today)s AND NOT pp.booked_ahead
    AND live.status = 'active' AND live.held_at IS NULL
    AND (SELECT count(*) FROM {T["session"]} s WHERE s.plan_id = pp.plan_id AND s.status = 'signed') = pp.done
    AND NOT EXISTS (SELECT 1 FROM {T["appt"]} f WHERE f.patient_id = pp.patient_id AND f.start > %(now)s
      AND f.status IN ('booked', 'confirmed'))
  ORDER BY pp.due_on, pp.plan_id
  LIMIT {RECORDS_LIMIT + 1}
) c
JOIN {T["plan"]} pl ON pl.id = c.plan_id JOIN {T["patient"]} p ON p.id = c.patient_id
ORDER BY c.due_on, c.plan_id
LIMIT {RECORDS_LIMIT + 1}
"""


def rebooking_build(filters: Filters, user: User, drill: Drill) -> Report:
    found = rows(REBOOKING_SQL, base_params(filters))
    share_rows = []
    total = None
    for r in found:
        name = _staff_name(r) if r["id"] is not None else _("All aestheticians")
        params = {"aesthetician": r["id"]} if r["id"] is not None else {}
        row = (
            Cell(name),
            Cell(str(r["sessions"]), drill(**params), numeric=True),
            Cell(str(r["rebooked"]), drill(rebooked="yes", **params), numeric=True),
            Cell(percent(r["rebooked"], r["sessions"]), drill(rebooked="yes", **params), r["sessions"], True),
        )
        share_rows.append(row)
        if r["id"] is None:
            total = r
    now = timezone.now()
    today = timezone.localdate(now, timezone=zoneinfo.ZoneInfo(filters.zone))
    overdue = rows(OVERDUE_SQL, base_params(filters) | {"now": now, "today": today})
    more = len(overdue) > RECORDS_LIMIT
    overdue = overdue[:RECORDS_LIMIT]
    worklist = tuple(
        (
            Cell(_name(r), reverse("clinic:patient_detail", args=[r["patient_id"]])),
            phone_cell(r["phone"]),
            Cell(r["email"]),
            Cell(f"{r['done']} / {r['sessions_planned']}"),
            Cell(r["due_on"].isoformat()),
            Cell(str((today - r["due_on"]).days), numeric=True),
        )
        for r in overdue
    )
    chart = bar_chart(
        title=_("Sessions and next session booked, by aesthetician"),
        x_labels=[_staff_name(r) for r in found if r["id"] is not None] or [_("none")],
        series=[
            (_("Sessions"), [r["sessions"] for r in found if r["id"] is not None] or [0]),
            (_("Next booked"), [r["rebooked"] for r in found if r["id"] is not None] or [0]),
        ],
    )
    figures = []
    if total is not None:
        figures.append(
            (
                _("Left with the next session booked"),
                Cell(percent(total["rebooked"], total["sessions"]), drill(rebooked="yes"), total["sessions"]),
            )
        )
    figures.append((_("Patients overdue"), Cell(f"{len(overdue)}+" if more else str(len(overdue)))))
    notes = [
        _(
            "The overdue list shows the %(limit)s longest overdue; a plan consented or a visit cancelled "
            "since the last refresh changes it then."
        )
        % {"limit": RECORDS_LIMIT},
        # The two summaries this report reads are refreshed together (summaries.refresh_summaries).
        summaries.refreshed_note(SESSION_REBOOKED, filters.zone),
    ]
    return Report(
        [
            Table(
                _("Sessions that left with the next one booked"),
                (_("Aesthetician"), _("Sessions"), _("Next booked"), _("Share")),
                tuple(share_rows),
                key="rebooking",
            ),
            Table(
                _("Overdue: an active plan, no next session booked, past its interval (today)"),
                (_("Patient"), _("Phone"), _("Email"), _("Sessions done"), _("Due since"), _("Days overdue")),
                worklist,
                key="overdue",
            ),
        ],
        chart,
        figures,
        notes,
    )


def rebooking_records(filters: Filters, params: dict[str, str], user: User) -> Table:
    aesthetician = _int_or_none(params.get("aesthetician"))
    found = rows(
        REBOOKING_CTE
        + f"""SELECT s.id, s.start, s.rebooked, p.first_name, p.last_name
        FROM s JOIN {T["patient"]} p ON p.id = s.patient_id
        WHERE (%(aesthetician)s::bigint IS NULL OR s.aesthetician_id = %(aesthetician)s)
          AND (%(only)s = false OR s.rebooked)
        ORDER BY s.start LIMIT {RECORDS_LIMIT}""",
        base_params(filters) | {"aesthetician": aesthetician, "only": params.get("rebooked") == "yes"},
    )
    show_names = sees(user, FieldGroup.SESSION_LOG)
    return Table(
        _("Sessions"),
        (_("Session"), _("Patient"), _("Next booked")),
        tuple(
            (
                Cell(
                    timezone.localtime(x["start"]).strftime("%Y-%m-%d %H:%M"),
                    reverse("treatments:session_detail", args=[x["id"]]) if show_names else "",
                ),
                Cell(_name(x)),
                Cell(_("yes") if x["rebooked"] else _("no")),
            )
            for x in found
        ),
    )


# --- Aftercare -------------------------------------------------------------------------------

# The messages of the range: a message by its due time's local day at its location (as the
# summaries keep them); one with no location (its location was deleted) by its due time in
# [start, end), if the user sees all their locations. The drill-down lists these live (with
# the location l LEFT JOINed); the due-time bounds, two days wider than any zone's day, only
# narrow the rows before the exact test.
MESSAGES_WHERE = """m.to_user_id IS NULL
  AND m.due_at >= %(start)s - interval '2 days' AND m.due_at < %(end)s + interval '2 days'
  AND ((m.location_id = ANY(%(locs)s) AND (m.due_at AT TIME ZONE l.time_zone)::date BETWEEN %(first)s AND %(last)s)
    OR (m.location_id IS NULL AND %(all)s AND m.due_at >= %(start)s AND m.due_at < %(end)s))"""

# The same range on a row s of the aftercare summaries (summaries.MESSAGE_SLOT): through their
# (location_id, day) index; a row of messages with no location by its 15-minute slot, which
# lies in [start, end) exactly when its messages' due times do.
SUMMARY_RANGE = """((s.location_id = ANY(%(locs)s) AND s.day BETWEEN %(first)s AND %(last)s)
    OR (s.location_id IS NULL AND %(all)s AND s.slot >= %(start)s AND s.slot < %(end)s))"""

# Counts by status from the message-day summary, and the due→sent lag's p50 and p95 (in whole
# seconds, shown in minutes) from the lag histogram (one: key 0), computed as percentile_cont
# computes them over the sent messages one by one (HISTOGRAM_PERCENTILES).
AFTERCARE_SQL = f"""
WITH lags AS (
  -- The whole weeks [weeks_from, weeks_to) from the week rows, the other days of the range
  -- from the day rows (and the messages with no location, which have only those).
  SELECT 0 AS key, h.lag, sum(h.n) AS n FROM {MESSAGE_LAG} s CROSS JOIN LATERAL unnest(s.lags, s.counts) AS h(lag, n)
  WHERE (s.week AND s.location_id = ANY(%(locs)s) AND s.day >= %(weeks_from)s AND s.day < %(weeks_to)s)
    OR (NOT s.week AND {SUMMARY_RANGE} AND (s.location_id IS NULL OR s.day < %(weeks_from)s OR s.day >= %(weeks_to)s))
  GROUP BY h.lag
), {HISTOGRAM_PERCENTILES}
SELECT s.status, coalesce(sum(s.n), 0)::bigint AS n,
  (SELECT value / 60 FROM pct WHERE p = 0.5) AS p50, (SELECT value / 60 FROM pct WHERE p = 0.95) AS p95,
  (SELECT max(total) FROM running) AS lagged  -- the sent messages the lags are over
FROM {MESSAGE_DAY} s WHERE {SUMMARY_RANGE}
GROUP BY GROUPING SETS ((s.status), ())
"""

# Check-in counts from the message-day summary; the "worried" answers' resolution hours from
# the worried-check-in summary (a row each).
CHECKINS_SQL = f"""
WITH w AS (
  SELECT count(s.resolved_hours) AS resolved,
    percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY s.resolved_hours) AS hours
  FROM {WORRIED_CHECKIN} s WHERE {SUMMARY_RANGE}
)
SELECT coalesce(sum(s.n) FILTER (WHERE s.status = 'sent'), 0)::bigint AS sent,
  coalesce(sum(s.n) FILTER (WHERE s.answer <> ''), 0)::bigint AS answered,
  coalesce(sum(s.n) FILTER (WHERE s.answer = 'fine'), 0)::bigint AS fine,
  coalesce(sum(s.n) FILTER (WHERE s.answer = 'red_or_sensitive'), 0)::bigint AS red,
  coalesce(sum(s.n) FILTER (WHERE s.answer = 'worried'), 0)::bigint AS worried,
  (SELECT resolved FROM w) AS resolved, (SELECT hours[1] FROM w) AS resolve_p50,
  (SELECT hours[2] FROM w) AS resolve_p95
FROM {MESSAGE_DAY} s WHERE {SUMMARY_RANGE} AND s.checkin
"""


def _whole_weeks(first: date, last: date) -> tuple[date, date]:
    """The whole weeks (Monday to Sunday) in [first, last], as [Monday, Monday); empty (both
    the day after ``last``) when there are none."""
    monday = first + timedelta(days=-first.weekday() % 7)
    after = last + timedelta(days=1)
    end = after - timedelta(days=after.weekday())
    return (monday, end) if monday < end else (after, after)


def _aftercare_params(filters: Filters, user: User) -> dict[str, Any]:
    weeks_from, weeks_to = _whole_weeks(filters.first_day, filters.last_day)
    return base_params(filters) | {
        "all": set(filters.location_ids) == set(user.location_ids()),
        "weeks_from": weeks_from,
        "weeks_to": weeks_to,
    }


def aftercare_build(filters: Filters, user: User, drill: Drill) -> Report:
    params = _aftercare_params(filters, user)
    found = rows(AFTERCARE_SQL, params)
    by_status = {r["status"]: r for r in found}
    total = by_status.get(None, {"n": 0, "p50": None, "p95": None})
    labels = dict(MessageStatus.choices)
    status_rows = tuple(
        (
            Cell(str(labels[status])),
            Cell(str(by_status.get(status, {}).get("n", 0)), drill(status=status), numeric=True),
            Cell(percent(by_status.get(status, {}).get("n", 0), total["n"]), drill(status=status), total["n"], True),
        )
        for status in MessageStatus.values
    )
    c = rows(CHECKINS_SQL, params)[0]
    answer_labels = dict(CheckInAnswer.choices)
    checkin_rows = (
        (Cell(_("Check-ins sent")), Cell(str(c["sent"]), drill(kind="checkin"), numeric=True), Cell("")),
        (
            Cell(_("Answered")),
            Cell(str(c["answered"]), drill(answer="any"), numeric=True),
            Cell(percent(c["answered"], c["sent"]), drill(answer="any"), c["sent"], True),
        ),
        *(
            (
                Cell(str(answer_labels[answer])),
                Cell(str(c[key]), drill(answer=answer), numeric=True),
                Cell(percent(c[key], c["answered"]), drill(answer=answer), c["answered"], True),
            )
            for answer, key in (("fine", "fine"), ("red_or_sensitive", "red"), ("worried", "worried"))
        ),
    )
    figures = [
        (_("Sent"), Cell(str(by_status.get("sent", {}).get("n", 0)), drill(status="sent"))),
        (_("Failed"), Cell(str(by_status.get("failed", {}).get("n", 0)), drill(status="failed"))),
        (
            _("Not sent: no consent"),
            Cell(str(by_status.get("skipped_no_consent", {}).get("n", 0)), drill(status="skipped_no_consent")),
        ),
        (_("Due → sent, p50 (minutes)"), Cell(number(total["p50"]), drill(status="sent"))),
        (_("Due → sent, p95 (minutes)"), Cell(number(total["p95"]), drill(status="sent"))),
        (
            _("“Worried” → resolved, median hours"),
            Cell(number(c["resolve_p50"]), drill(answer="worried"), c["resolved"]),
        ),
        (_("“Worried” → resolved, p95 hours"), Cell(number(c["resolve_p95"]), drill(answer="worried"), c["resolved"])),
    ]
    chart = bar_chart(
        title=_("Check-in answers"),
        x_labels=[str(answer_labels[a]) for a in CheckInAnswer.values],
        series=[(_("Answers"), [c["fine"], c["red"], c["worried"]])],
    )
    return Report(
        [
            Table(
                _("Messages to patients by status (due in the range)"),
                (_("Status"), _("Messages"), _("Share")),
                status_rows,
                key="messages",
            ),
            Table(_("Check-in answers"), (_("Check-ins"), _("Count"), _("Rate")), checkin_rows, key="checkins"),
        ],
        chart,
        figures,
        # The three aftercare summaries are refreshed together (summaries.refresh_summaries).
        [summaries.refreshed_note(MESSAGE_DAY, filters.zone)],
    )


def aftercare_records(filters: Filters, params: dict[str, str], user: User) -> Table:
    status = params.get("status", "")[:24]
    answer = params.get("answer", "")[:24]
    checkins_only = bool(answer) or params.get("kind") == "checkin"
    found = rows(
        # The page of messages first, then their patients and answers: the local-day test
        # leaves the planner no estimate of how many rows match, and it would join every one.
        f"""SELECT x.id, x.kind, x.status, x.due_at, x.sent_at, p.first_name, p.last_name,
          (SELECT c.answer FROM {T["checkin"]} c WHERE c.message_id = x.id) AS answer
        FROM (
          SELECT m.id, m.patient_id, m.kind, m.status, m.due_at, m.sent_at
          FROM {T["message"]} m LEFT JOIN {T["location"]} l ON l.id = m.location_id
          WHERE {MESSAGES_WHERE} AND (%(status)s = '' OR m.status = %(status)s)
            AND (%(checkins)s = false OR m.kind IN ('checkin_day1', 'checkin_day3'))
            AND (%(answer)s = '' OR EXISTS (SELECT 1 FROM {T["checkin"]} a WHERE a.message_id = m.id
              AND (%(answer)s = 'any' OR a.answer = %(answer)s)))
          ORDER BY m.due_at, m.id LIMIT {RECORDS_LIMIT}
        ) x JOIN {T["patient"]} p ON p.id = x.patient_id
        ORDER BY x.due_at, x.id""",
        _aftercare_params(filters, user) | {"status": status, "answer": answer, "checkins": checkins_only},
    )
    # Which message went to whom, and a patient's answers, are field groups of their own.
    show_names = sees(user, FieldGroup.MESSAGE_CONTENTS) and sees(user, FieldGroup.CHECKIN_ANSWERS)
    kinds = dict(Message._meta.get_field("kind").choices or ())
    statuses = dict(MessageStatus.choices)
    answers = dict(CheckInAnswer.choices)
    return Table(
        _("Messages"),
        (_("Due"), _("Sent"), _("Message"), _("Status"), _("Answer"), _("Patient")),
        tuple(
            (
                Cell(timezone.localtime(x["due_at"]).strftime("%Y-%m-%d %H:%M")),
                Cell(timezone.localtime(x["sent_at"]).strftime("%Y-%m-%d %H:%M") if x["sent_at"] else "—"),
                Cell(str(kinds.get(x["kind"], x["kind"]))),
                Cell(str(statuses.get(x["status"], x["status"]))),
                Cell(str(answers.get(x["answer"], "")) if x["answer"] else "—"),
                Cell(_name(x) if show_names else _("record %(id)s") % {"id": x["id"]}),
            )
            for x in found
        ),
    )


SPECS = (
    ReportSpec(
        slug="appointments",
        title=gettext_lazy("Appointments"),
        definition=gettext_lazy(
            "Appointments starting in the range (each location's local days), by type and status; no-show rate = "
            "no-shows ÷ appointments not cancelled; a late cancellation is cancelled less than the chosen hours "
            "before the start; a first-visit consultation is a consultation of a patient with no earlier "
            "appointment kept."
        ),
        audience="operations",
        build=appointments_build,
        records=appointment_records,
        uses_late_hours=True,
    ),
    ReportSpec(
        slug="utilisation",
        title=gettext_lazy("Utilisation"),
        definition=gettext_lazy(
            "Booked minutes (appointments not cancelled or missed) ÷ working minutes, for each practitioner and "
            "each room, by day or by week."
        ),
        audience="operations",
        build=utilisation_build,
        records=appointment_records,
        breakdowns=PERIODS,
    ),
    ReportSpec(
        slug="funnel",
        title=gettext_lazy("Programme funnel"),
        definition=gettext_lazy(
            "Signed consultations whose appointment falls in the range (each location's local days), and how many "
            "went on to each next step of the programme, with the median whole days between steps (each gap's "
            "elapsed time in days, rounded down)."
        ),
        audience="operations",
        build=funnel_build,
        records=funnel_records,
    ),
    ReportSpec(
        slug="rebooking",
        title=gettext_lazy("Rebooking and retention"),
        definition=gettext_lazy(
            "Signed sessions in the range (not a plan's last) whose patient had a later appointment booked by the "
            "end of that day; and, today, active plans past their interval with nothing booked."
        ),
        audience="operations",
        build=rebooking_build,
        records=rebooking_records,
    ),
    ReportSpec(
        slug="aftercare",
        title=gettext_lazy("Aftercare messages"),
        definition=gettext_lazy(
            "Messages to patients due in the range (by the day at the message's location) by status; minutes "
            "from due to sent, measured in whole seconds; check-ins answered and how; hours from a “worried” "
            "answer to the specialist resolving it."
        ),
        audience="operations",
        build=aftercare_build,
        records=aftercare_records,
    ),
)
