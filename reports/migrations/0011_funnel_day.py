from django.db import migrations

# Frozen here (reports.summaries.FUNNEL_DAY_SQL, with FUNNEL_REACHED and FUNNEL_SQL in it,
# when this was written).
FUNNEL_DAY_SQL = """
WITH f AS (
  SELECT f.location_id, (f.start AT TIME ZONE l.time_zone)::date AS day, t2 IS NOT NULL AS s2,
    t2 IS NOT NULL AND t3 IS NOT NULL AS s3,
    t2 IS NOT NULL AND t3 IS NOT NULL AND t4 IS NOT NULL AS s4,
    t2 IS NOT NULL AND t3 IS NOT NULL AND t4 IS NOT NULL AND t5 IS NOT NULL AS s5,
    t2 IS NOT NULL AND t3 IS NOT NULL AND t4 IS NOT NULL AND t5 IS NOT NULL AND t6 IS NOT NULL AS s6,
    floor(date_part('epoch', f.t3 - f.t2) / 86400)::integer AS d3,
    floor(date_part('epoch', f.t4 - f.t3) / 86400)::integer AS d4,
    floor(date_part('epoch', f.t5 - f.t4) / 86400)::integer AS d5,
    floor(date_part('epoch', f.t6 - f.t5) / 86400)::integer AS d6
  FROM (
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
) f JOIN clinic_location l ON l.id = f.location_id
), h AS (
  SELECT f.location_id, f.day, v.step, v.lag, count(*)::integer AS n
  FROM f CROSS JOIN LATERAL (
    VALUES (1, true, NULL::integer), (2, f.s2, NULL), (3, f.s3, f.d3), (4, f.s4, f.d4), (5, f.s5, f.d5), (6, f.s6, f.d6)
  ) AS v(step, reached, lag)
  WHERE v.reached
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
