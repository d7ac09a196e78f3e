# ruff: noqa: S608
# The SQL here is built from table names (Model._meta) and fixed fragments.
"""Summaries the reports read instead of the raw rows, refreshed from the beat schedule.

``reports_funnel``: each signed consultation and when it reached each step (the funnel
report's drill-down).

``reports_funnel_day``: per location, local day of the consultation's appointment and step,
the consultations reaching the step and a histogram of their whole days since the step
before (the funnel report).

``reports_session_rebooked``: each signed session and whether it left with the next booked.

``reports_booked_day``: booked minutes per location, day, practitioner and room (utilisation).

``reports_session_signals_day``: signed sessions and those with an adverse signal per
location and local day, by extraction method, by aesthetician and by product lot (adverse
signals).

``reports_appointment_day``: appointments per location, local day, type, status and (for
cancellations) whole hours of notice, with the first-visit consultations among them
(the appointments report).

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
FUNNEL_DAY = "reports_funnel_day"
SESSION_SIGNALS_DAY = "reports_session_signals_day"
APPOINTMENT_DAY = "reports_appointment_day"
MESSAGE_DAY = "reports_message_day"
MESSAGE_LAG = "reports_message_lag"
WORRIED_CHECKIN = "reports_worried_checkin"
SUMMARIES = (
    PLAN_PROGRESS,
    PLAN_OUTCOME,
    BOOKED_DAY,
    SESSION_REBOOKED,
    FUNNEL,
    FUNNEL_DAY,
    SESSION_SIGNALS_DAY,
    APPOINTMENT_DAY,
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

# A consultation reaches a step when it reached every step before it too (on a row of
# FUNNEL_SQL: the funnel report's drill-down and the funnel-day summary).
FUNNEL_REACHED = """t2 IS NOT NULL AS s2,
    t2 IS NOT NULL AND t3 IS NOT NULL AS s3,
    t2 IS NOT NULL AND t3 IS NOT NULL AND t4 IS NOT NULL AS s4,
    t2 IS NOT NULL AND t3 IS NOT NULL AND t4 IS NOT NULL AND t5 IS NOT NULL AS s5,
    t2 IS NOT NULL AND t3 IS NOT NULL AND t4 IS NOT NULL AND t5 IS NOT NULL AND t6 IS NOT NULL AS s6"""

# The funnel per location, local day of the consultation's appointment start (at its
# location) and step (1 to 6): how many consultations reached the step (n) and, from step 3
# on, their whole days since the step before (the elapsed time's seconds / 86400, rounded
# down) as a histogram: each lag (ascending) and how many had it. The report sums n over the
# range and computes the medians from the summed (lag, count) pairs, exactly as
# percentile_cont would over the consultations (operations.HISTOGRAM_PERCENTILES). Lags
# spread over a few weeks, so a day has a handful of distinct lags per step however many
# consultations it has (about 3 a day at step 4 at both bench sizes): a range reads ~6 rows
# a day, whatever the data. Steps 1 and 2 have no lag (empty arrays: step 2 is reached when
# the consultation is signed). The key (location_id, day, step) is never NULL. Built from
# FUNNEL_SQL on the raw rows (not from the reports_funnel view: refreshed in any order, it
# cannot lag behind it), MATERIALIZED: inlined, PostgreSQL repeats the per-plan subqueries
# for every reference to a step's time. The consultations are first grouped by how far they
# got and their lags (g: a few dozen combinations a day) and only those are split by step:
# splitting each consultation into its steps took twice as long at 10x (4.5 s against 2.3 s).
# Made by reports/migrations/0011.
FUNNEL_DAY_SQL = f"""
WITH c AS MATERIALIZED ({FUNNEL_SQL}), f AS (
  SELECT c.location_id, (c.start AT TIME ZONE l.time_zone)::date AS day, {FUNNEL_REACHED},
    floor(date_part('epoch', c.t3 - c.t2) / 86400)::integer AS d3,
    floor(date_part('epoch', c.t4 - c.t3) / 86400)::integer AS d4,
    floor(date_part('epoch', c.t5 - c.t4) / 86400)::integer AS d5,
    floor(date_part('epoch', c.t6 - c.t5) / 86400)::integer AS d6
  FROM c JOIN clinic_location l ON l.id = c.location_id
), g AS (
  SELECT location_id, day,
    CASE WHEN s6 THEN 6 WHEN s5 THEN 5 WHEN s4 THEN 4 WHEN s3 THEN 3 WHEN s2 THEN 2 ELSE 1 END AS reached,
    CASE WHEN s3 THEN d3 END AS d3, CASE WHEN s4 THEN d4 END AS d4, CASE WHEN s5 THEN d5 END AS d5,
    CASE WHEN s6 THEN d6 END AS d6, count(*)::integer AS n
  FROM f GROUP BY 1, 2, 3, 4, 5, 6, 7
), h AS (
  SELECT g.location_id, g.day, v.step, v.lag, sum(g.n)::integer AS n
  FROM g CROSS JOIN LATERAL (
    VALUES (1, NULL::integer), (2, NULL), (3, g.d3), (4, g.d4), (5, g.d5), (6, g.d6)
  ) AS v(step, lag)
  WHERE v.step <= g.reached
  GROUP BY 1, 2, 3, 4
)
SELECT location_id, day, step, sum(n)::integer AS n,
  coalesce(array_agg(lag ORDER BY lag) FILTER (WHERE lag IS NOT NULL), '{{}}') AS lags,
  coalesce(array_agg(n ORDER BY lag) FILTER (WHERE lag IS NOT NULL), '{{}}') AS counts
FROM h GROUP BY location_id, day, step
"""

# Signed sessions per location and local day of the appointment's start, counted three ways:
# by extraction method, by aesthetician and by product lot (the adverse-signals report's
# breakdowns, one at a time): how many, and how many had a complication logged, a "worried" or
# a "still red" check-in answer. The report sums a few rows per day whatever the number of
# sessions; a row per method, aesthetician and lot together would be about a row per session.
# The key is never NULL (REFRESH ... CONCURRENTLY matches rows by it and would rewrite every row
# with a NULL at each refresh): a row of one breakdown has '' and 0 in the other two columns,
# and 0 is also the lot of a session without one (no lot has id 0).
# The check-ins are matched to their session once per refresh, by the message's source
# ('treatment_session:<id>'): only the sources with one of the two answers, each once.
# Made by reports/migrations/0010.
SESSION_SIGNALS_DAY_SQL = """
WITH answered AS (
  SELECT m.source, bool_or(c.answer = 'worried') AS worried, bool_or(c.answer = 'red_or_sensitive') AS still_red
  FROM aftercare_message m JOIN aftercare_checkin c ON c.message_id = m.id
  WHERE c.answer IN ('worried', 'red_or_sensitive')
  GROUP BY m.source
), signed AS (
  SELECT a.location_id, (a.start AT TIME ZONE l.time_zone)::date AS day, s.extraction_method, s.aesthetician_id,
    s.product_lot_id, cardinality(s.complications) > 0 AS complication, g.worried, g.still_red
  FROM treatments_treatmentsession s JOIN clinic_appointment a ON a.id = s.appointment_id
  JOIN clinic_location l ON l.id = a.location_id
  LEFT JOIN answered g ON g.source = 'treatment_session:' || s.id
  WHERE s.status = 'signed'
)
SELECT location_id, day,
  CASE WHEN grouping(extraction_method) = 0 THEN 'method' WHEN grouping(aesthetician_id) = 0 THEN 'aesthetician'
    ELSE 'lot' END AS breakdown,
  coalesce(extraction_method, '') AS extraction_method, coalesce(aesthetician_id, 0) AS aesthetician_id,
  coalesce(product_lot_id, 0) AS product_lot_id, count(*) AS sessions,
  count(*) FILTER (WHERE complication) AS complication, count(*) FILTER (WHERE worried) AS worried,
  count(*) FILTER (WHERE still_red) AS still_red
FROM signed
GROUP BY GROUPING SETS ((location_id, day, extraction_method), (location_id, day, aesthetician_id),
  (location_id, day, product_lot_id))
"""

# Appointments per location, local day, type, status and notice, with how many of them are
# first-visit consultations: the appointments report sums these (a few rows per location and
# day) instead of every appointment. Made by reports/migrations/0008.
#
# lead_h, the notice a cancellation gave: with m the time of the appointment's last change to
# 'cancelled' and x = extract(epoch FROM a.start - m) (exact: numeric, microseconds),
# lead_h = floor(x / 3600) held between -1 and 336 (forms.LATE_HOURS_MAX). The report counts a
# cancellation as late when lead_h < L, L the chosen hours (an integer, 1 <= L <= 336), and
# that is exactly the raw rule "some change to 'cancelled' has at > a.start - L hours":
#   - some change has at > start - L h  <=>  m > start - L h  <=>  x < 3600 L  <=>  x / 3600 < L;
#   - for an integer L, floor(y) < L <=> y < L: if y < L then floor(y) <= y < L; if floor(y) < L
#     then floor(y) <= L - 1, and y < floor(y) + 1 <= L;
#   - holding floor(y) between -1 and 336 keeps the comparison: L >= 1 > -1, so any negative
#     floor(y) (cancelled after the start: x < 0) is < L and so is -1; L <= 336, so any
#     floor(y) >= 336 is not < L and neither is 336.
# -1 then reads "cancelled after the start" and 336 "two weeks' notice or more".
# Appointments not cancelled, and cancelled ones with no recorded change to 'cancelled' (the
# raw rule finds no change, so never late), get 337: never < L. A sentinel rather than NULL:
# REFRESH ... CONCURRENTLY matches old and new rows on the unique index's columns with "=",
# so a row with a NULL there never matches and would be deleted and written again at every
# refresh (most rows are not cancellations).
#
# first_visit keeps the raw definition: a consultation, not released, of a patient with no
# earlier appointment kept (at any location).
APPOINTMENT_DAY_SQL = """
SELECT a.location_id, (a.start AT TIME ZONE l.time_zone)::date AS day, a.appointment_type_id, a.status,
  CASE WHEN a.status = 'cancelled' AND c.at IS NOT NULL
    THEN greatest(-1, least(336, floor(extract(epoch FROM a.start - c.at) / 3600)))::int
    ELSE 337 END AS lead_h,
  count(*) AS n,
  count(*) FILTER (WHERE t.kind = 'consultation' AND a.status NOT IN ('cancelled', 'no_show') AND NOT EXISTS (
      SELECT 1 FROM clinic_appointment p WHERE p.patient_id = a.patient_id AND p.start < a.start
        AND p.status NOT IN ('cancelled', 'no_show'))) AS first_visit
FROM clinic_appointment a JOIN clinic_location l ON l.id = a.location_id
JOIN clinic_appointmenttype t ON t.id = a.appointment_type_id
LEFT JOIN (
  SELECT appointment_id, max(at) AS at FROM clinic_appointmentstatuschange WHERE to_status = 'cancelled'
  GROUP BY appointment_id
) c ON c.appointment_id = a.id
GROUP BY 1, 2, 3, 4, 5
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
