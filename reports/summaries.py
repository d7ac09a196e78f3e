# ruff: noqa: S608
# The SQL here is built from table names (Model._meta) and fixed fragments.
"""Summaries the reports read instead of the raw rows, refreshed from the beat schedule.

``reports_funnel``: each signed consultation and when it reached each step (the funnel).

``reports_session_rebooked``: each signed session and whether it left with the next booked.

``reports_booked_day``: booked minutes per location, day, practitioner and room (utilisation).

``reports_message_day``, ``reports_message_lag``, ``reports_worried_checkin``: patient
messages per location, local due day, status and check-in answer; sent messages' due→sent
lags as a histogram (a count per whole second); each "worried" check-in and how long it took
to resolve (the aftercare report).

``reports_plan_outcome``: each reviewed plan's baseline and first-review lesion counts by
type, grades and breakdown values (see reports.outcomes.PLAN_OUTCOME_SQL), read by the
outcome reports through its (location, review time) index.

``reports_plan_progress`` (a materialized view made by reports/migrations/0001): for each
active, consented plan not on hold with sessions still to come, how many sessions are signed,
when the last one started, the day the next one falls due (the last session's local day,
or the planned start, plus the plan's interval) and whether the patient had a visit booked
ahead when it was refreshed (most have: the worklist's index leaves those rows out).
Computing this live means a per-plan aggregate over every active plan in the clinic; the
overdue worklist reads the view through its (location, due day) index instead, and
re-checks each candidate against the live rows (see operations.OVERDUE_SQL).
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.models import SummaryRefresh

PLAN_PROGRESS = "reports_plan_progress"
# Built from reports.outcomes.PLAN_OUTCOME_SQL (reports/migrations/0002).
PLAN_OUTCOME = "reports_plan_outcome"
BOOKED_DAY = "reports_booked_day"
SESSION_REBOOKED = "reports_session_rebooked"
FUNNEL = "reports_funnel"
MESSAGE_DAY = "reports_message_day"
MESSAGE_LAG = "reports_message_lag"
WORRIED_CHECKIN = "reports_worried_checkin"
SUMMARIES = (
    PLAN_PROGRESS,
    PLAN_OUTCOME,
    BOOKED_DAY,
    SESSION_REBOOKED,
    FUNNEL,
    MESSAGE_DAY,
    MESSAGE_LAG,
    WORRIED_CHECKIN,
)

# The view's query, as reports/migrations/0001_initial.py created it (the test compares the
# view with this query run on the live rows).
PLAN_PROGRESS_SQL = """
SELECT pl.id AS plan_id, pl.patient_id, ca.location_id, last.done, last.start AS last_start,
  coalesce((last.start AT TIME ZONE l.time_zone)::date, pl.starts_on - pl.interval_days) + pl.interval_days AS due_on,
  EXISTS (SELECT 1 FROM clinic_appointment f WHERE f.patient_id = pl.patient_id AND f.start > now()
    AND f.status IN ('booked', 'confirmed')) AS booked_ahead
FROM consultations_treatmentplan pl
JOIN consultations_consultation co ON co.id = pl.consultation_id
JOIN clinic_appointment ca ON ca.id = co.appointment_id
JOIN clinic_location l ON l.id = ca.location_id
CROSS JOIN LATERAL (
  SELECT max(a.start) AS start, count(*) AS done
  FROM treatments_treatmentsession s JOIN clinic_appointment a ON a.id = s.appointment_id
  WHERE s.plan_id = pl.id AND s.status = 'signed'
) last
WHERE pl.status = 'active' AND pl.consented_at IS NOT NULL AND pl.held_at IS NULL
  AND last.done < pl.sessions_planned
"""


# Booked minutes (appointments not cancelled or missed) per location, local day, practitioner
# and room: the utilisation report sums these (about one row per practitioner and day)
# instead of every appointment. Made by reports/migrations/0003.
BOOKED_DAY_SQL = """
SELECT a.location_id, (a.start AT TIME ZONE l.time_zone)::date AS day, a.practitioner_id, a.room_id,
  sum(extract(epoch FROM a."end" - a.start) / 60)::float AS minutes
FROM clinic_appointment a JOIN clinic_location l ON l.id = a.location_id
WHERE a.status NOT IN ('cancelled', 'no_show')
GROUP BY 1, 2, 3, 4
"""

# Each signed session that expects a next one (not its plan's last), and whether the patient
# left with a later appointment made by the end of the session's local day (a fact fixed once
# that day is over). The rebooking share counts these rows. Made by reports/migrations/0004.
SESSION_REBOOKED_SQL = """
SELECT s.id AS session_id, a.location_id, a.start, s.aesthetician_id, s.patient_id,
  EXISTS (SELECT 1 FROM clinic_appointment n WHERE n.patient_id = s.patient_id AND n.start > a.start
    AND n.created_at < (date_trunc('day', a.start AT TIME ZONE l.time_zone) + interval '1 day') AT TIME ZONE l.time_zone
  ) AS rebooked
FROM treatments_treatmentsession s JOIN clinic_appointment a ON a.id = s.appointment_id
JOIN clinic_location l ON l.id = a.location_id
WHERE s.status = 'signed' AND (s.sessions_planned IS NULL OR s.session_number < s.sessions_planned)
"""

# Each signed consultation with when it reached each step of the programme (t1 signed, t2
# recommended, t3 plan consented, t4 session 1 signed, t5 plan completed, t6 first progress
# review), by its appointment's start and location: the funnel. Made by reports/migrations/0005.
FUNNEL_SQL = """
SELECT co.id, co.patient_id, a.location_id, a.start, co.signed_at AS t1,
  CASE WHEN coalesce(nullif(co.override_outcome, ''), co.rules_outcome) = 'recommended'
    THEN co.signed_at END AS t2,
  pl.consented_at AS t3,
  (SELECT min(s.signed_at) FROM treatments_treatmentsession s
    WHERE s.plan_id = pl.id AND s.session_number = 1 AND s.status = 'signed') AS t4,
  (SELECT CASE WHEN count(*) >= pl.sessions_planned THEN max(s.signed_at) END FROM treatments_treatmentsession s
    WHERE s.plan_id = pl.id AND s.status = 'signed') AS t5,
  (SELECT min(r.decided_at) FROM treatments_progressreview r WHERE r.plan_id = pl.id) AS t6
FROM consultations_consultation co JOIN clinic_appointment a ON a.id = co.appointment_id
LEFT JOIN consultations_treatmentplan pl ON pl.consultation_id = co.id
WHERE co.status = 'signed'
"""

# The aftercare summaries' time key, for a message m (with its location l, LEFT JOINed).
# day: the due time's local day at the message's location. A message with no location (its
# location was deleted) has no zone of its own, and the view cannot read the clinic's default
# from the settings: it is kept by the 15-minute slot its due time falls in (slot), which the
# report counts by its own [start, end), exactly (every zone's midnight is on such a slot).
# For a located message slot is its local day's midnight: one value per day, never NULL, so
# REFRESH ... CONCURRENTLY matches the rows again instead of rewriting them (NULL never equals).
MESSAGE_SLOT = """(m.due_at AT TIME ZONE l.time_zone)::date AS day,
  CASE WHEN l.id IS NULL THEN date_bin('15 minutes', m.due_at, timestamptz '2000-01-01 00:00+00')
    ELSE ((m.due_at AT TIME ZONE l.time_zone)::date)::timestamp AT TIME ZONE l.time_zone END AS slot"""

# Patient messages (not a staff member's) by location, local due day, status, whether a
# check-in and its answer ('' when none): the aftercare report's counts. Made by
# reports/migrations/0009.
MESSAGE_DAY_SQL = f"""
SELECT m.location_id, {MESSAGE_SLOT},
  m.status, m.kind IN ('checkin_day1', 'checkin_day3') AS checkin, coalesce(c.answer, '') AS answer, count(*) AS n
FROM aftercare_message m LEFT JOIN clinic_location l ON l.id = m.location_id
LEFT JOIN aftercare_checkin c ON c.message_id = m.id
WHERE m.to_user_id IS NULL
GROUP BY 1, 2, 3, 4, 5, 6
"""

# Sent patient messages' due→sent lag in whole seconds (rounded down), as a histogram: for a
# location and local due day, each lag (ascending) and how many messages had it. Percentiles
# are not sums, but percentile_cont over the range is exactly computable from the summed
# (lag, count) pairs (operations.AFTERCARE_SQL). The dispatcher keeps lags to a few minutes,
# so a day has at most a few hundred distinct lags however many messages it sends; one row a
# day holding them in two arrays is read ~2.5x faster than a row per lag (and 1/7 the size).
# The same per week too (week: day is the Monday; messages with a location only, slot NULL,
# so a refresh rewrites these few rows): a range reads its whole weeks from these and only
# the days either side from the day rows, a fraction of the lags to add up. Made by
# reports/migrations/0009.
MESSAGE_LAG_SQL = f"""
WITH h AS (
  SELECT m.location_id, {MESSAGE_SLOT},
    floor(extract(epoch FROM m.sent_at - m.due_at))::integer AS lag, count(*)::integer AS n
  FROM aftercare_message m LEFT JOIN clinic_location l ON l.id = m.location_id
  WHERE m.to_user_id IS NULL AND m.status = 'sent'
  GROUP BY 1, 2, 3, 4
), weeks AS (
  SELECT location_id, day - (extract(isodow FROM day)::integer - 1) AS day, lag, sum(n)::integer AS n
  FROM h WHERE location_id IS NOT NULL
  GROUP BY 1, 2, 3
)
SELECT location_id, false AS week, day, slot, array_agg(lag ORDER BY lag) AS lags, array_agg(n ORDER BY lag) AS counts
FROM h GROUP BY location_id, day, slot
UNION ALL
SELECT location_id, true, day, NULL, array_agg(lag ORDER BY lag), array_agg(n ORDER BY lag)
FROM weeks GROUP BY location_id, day
"""

# Each "worried" answer to a patient's check-in, by its message's location and due day, and
# the hours from the answer to the specialist resolving it (NULL while open, or with no queue
# entry). Rare (a handful a day at a busy location), so a row each: the report takes the
# percentiles over the answers themselves. Made by reports/migrations/0009.
WORRIED_CHECKIN_SQL = f"""
SELECT c.id AS checkin_id, m.location_id, {MESSAGE_SLOT},
  extract(epoch FROM q.resolved_at - c.answered_at)::float8 / 3600 AS resolved_hours
FROM aftercare_checkin c JOIN aftercare_message m ON m.id = c.message_id
LEFT JOIN clinic_location l ON l.id = m.location_id
LEFT JOIN aftercare_specialistqueueentry q ON q.checkin_id = c.id
WHERE c.answer = 'worried' AND m.to_user_id IS NULL AND m.kind IN ('checkin_day1', 'checkin_day3')
"""


def refresh_summaries() -> None:
    """Refresh every summary and record when. CONCURRENTLY: the reports keep reading the old
    rows meanwhile (it needs the unique index above). Running it twice does no harm."""
    for name in SUMMARIES:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Through the owner's function (reports/migrations/0006): the app's role owns nothing.
                cursor.execute("SELECT reports_refresh_summary(%s)", [name])
            SummaryRefresh.objects.update_or_create(name=name, defaults={"refreshed_at": timezone.now()})


def refreshed_note(name: str, zone: str) -> str:
    """The line a report shows under figures read from summary ``name``: when it was refreshed."""
    refreshed = SummaryRefresh.objects.filter(name=name).values_list("refreshed_at", flat=True).first()
    at = timezone.localtime(refreshed, zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if refreshed else _("never")
    return _("Read from a summary refreshed every %(minutes)s minutes; last refreshed %(at)s.") % {
        "minutes": settings.REPORTS_SUMMARY_REFRESH_SECONDS // 60,
        "at": at,
    }
