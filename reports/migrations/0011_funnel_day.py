from django.db import migrations

# Frozen here (reports.summaries.FUNNEL_DAY_SQL, with FUNNEL_REACHED and FUNNEL_SQL in it,
# when this was written).
FUNNEL_DAY_SQL = """
WITH c AS MATERIALIZED (
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
), f AS (
  SELECT c.location_id, (c.start AT TIME ZONE l.time_zone)::date AS day, t2 IS NOT NULL AS s2,
    t2 IS NOT NULL AND t3 IS NOT NULL AS s3,
    t2 IS NOT NULL AND t3 IS NOT NULL AND t4 IS NOT NULL AS s4,
    t2 IS NOT NULL AND t3 IS NOT NULL AND t4 IS NOT NULL AND t5 IS NOT NULL AS s5,
    t2 IS NOT NULL AND t3 IS NOT NULL AND t4 IS NOT NULL AND t5 IS NOT NULL AND t6 IS NOT NULL AS s6,
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
  coalesce(array_agg(lag ORDER BY lag) FILTER (WHERE lag IS NOT NULL), '{}') AS lags,
  coalesce(array_agg(n ORDER BY lag) FILTER (WHERE lag IS NOT NULL), '{}') AS counts
FROM h GROUP BY location_id, day, step
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0010_session_signals")]

    operations = [
        migrations.RunSQL(
            [
                f"CREATE MATERIALIZED VIEW reports_funnel_day AS {FUNNEL_DAY_SQL}",
                # REFRESH ... CONCURRENTLY needs a unique index (no column of it is ever NULL); it
                # starts with what the report reads by (location, a range of days), so it serves
                # the reads too.
                "CREATE UNIQUE INDEX reports_funnel_day_key ON reports_funnel_day (location_id, day, step)",
                "INSERT INTO reports_summaryrefresh (name, refreshed_at) VALUES ('reports_funnel_day', now())",
            ],
            [
                "DELETE FROM reports_summaryrefresh WHERE name = 'reports_funnel_day'",
                "DROP MATERIALIZED VIEW IF EXISTS reports_funnel_day",
            ],
        ),
    ]
