# ruff: noqa: S608
# The SQL here is fixed text (one shared fragment): no value comes from outside.
from django.db import migrations

# Frozen here (reports.summaries.MESSAGE_SLOT, MESSAGE_DAY_SQL, MESSAGE_LAG_SQL and
# WORRIED_CHECKIN_SQL when this was written).
MESSAGE_SLOT = """(m.due_at AT TIME ZONE l.time_zone)::date AS day,
  CASE WHEN l.id IS NULL THEN date_bin('15 minutes', m.due_at, timestamptz '2000-01-01 00:00+00')
    ELSE ((m.due_at AT TIME ZONE l.time_zone)::date)::timestamp AT TIME ZONE l.time_zone END AS slot"""

MESSAGE_DAY_SQL = f"""
SELECT m.location_id, {MESSAGE_SLOT},
  m.status, m.kind IN ('checkin_day1', 'checkin_day3') AS checkin, coalesce(c.answer, '') AS answer, count(*) AS n
FROM aftercare_message m LEFT JOIN clinic_location l ON l.id = m.location_id
LEFT JOIN aftercare_checkin c ON c.message_id = m.id
WHERE m.to_user_id IS NULL
GROUP BY 1, 2, 3, 4, 5, 6
"""

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

WORRIED_CHECKIN_SQL = f"""
SELECT c.id AS checkin_id, m.location_id, {MESSAGE_SLOT},
  extract(epoch FROM q.resolved_at - c.answered_at)::float8 / 3600 AS resolved_hours
FROM aftercare_checkin c JOIN aftercare_message m ON m.id = c.message_id
LEFT JOIN clinic_location l ON l.id = m.location_id
LEFT JOIN aftercare_specialistqueueentry q ON q.checkin_id = c.id
WHERE c.answer = 'worried' AND m.to_user_id IS NULL AND m.kind IN ('checkin_day1', 'checkin_day3')
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0008_appointment_day")]

    operations = [
        migrations.RunSQL(
            [
                f"CREATE MATERIALIZED VIEW reports_message_day AS {MESSAGE_DAY_SQL}",
                # The key (REFRESH ... CONCURRENTLY needs one) leads with (location_id, day): it is
                # also the index the report reads the range through. NULLS NOT DISTINCT: the rows
                # of messages with no location are unique too.
                "CREATE UNIQUE INDEX reports_message_day_key ON reports_message_day"
                " (location_id, day, slot, status, checkin, answer) NULLS NOT DISTINCT",
                f"CREATE MATERIALIZED VIEW reports_message_lag AS {MESSAGE_LAG_SQL}",
                "CREATE UNIQUE INDEX reports_message_lag_key ON reports_message_lag"
                " (location_id, week, day, slot) NULLS NOT DISTINCT",
                f"CREATE MATERIALIZED VIEW reports_worried_checkin AS {WORRIED_CHECKIN_SQL}",
                "CREATE UNIQUE INDEX reports_worried_checkin_key ON reports_worried_checkin (checkin_id)",
                "CREATE INDEX reports_worried_checkin_day ON reports_worried_checkin (location_id, day)",
                "INSERT INTO reports_summaryrefresh (name, refreshed_at) VALUES"
                " ('reports_message_day', now()), ('reports_message_lag', now()), ('reports_worried_checkin', now())",
            ],
            [
                "DELETE FROM reports_summaryrefresh WHERE name IN"
                " ('reports_message_day', 'reports_message_lag', 'reports_worried_checkin')",
                "DROP MATERIALIZED VIEW IF EXISTS reports_worried_checkin",
                "DROP MATERIALIZED VIEW IF EXISTS reports_message_lag",
                "DROP MATERIALIZED VIEW IF EXISTS reports_message_day",
            ],
        ),
    ]
