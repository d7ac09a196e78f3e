from django.db import migrations

# Frozen here (reports.summaries.SESSION_SIGNALS_DAY_SQL when this was written).
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


class Migration(migrations.Migration):
    dependencies = [("reports", "0009_message_day")]

    operations = [
        migrations.RunSQL(
            [
                f"CREATE MATERIALIZED VIEW reports_session_signals_day AS {SESSION_SIGNALS_DAY_SQL}",
                # REFRESH ... CONCURRENTLY needs a unique index; it starts with what the report
                # reads by (location, breakdown, a range of days), so it serves the reads too.
                "CREATE UNIQUE INDEX reports_session_signals_day_key ON reports_session_signals_day"
                " (location_id, breakdown, day, extraction_method, aesthetician_id, product_lot_id)",
                "INSERT INTO reports_summaryrefresh (name, refreshed_at) VALUES ('reports_session_signals_day', now())",
            ],
            [
                "DELETE FROM reports_summaryrefresh WHERE name = 'reports_session_signals_day'",
                "DROP MATERIALIZED VIEW IF EXISTS reports_session_signals_day",
            ],
        ),
    ]
