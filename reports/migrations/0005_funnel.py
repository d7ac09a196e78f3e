from django.db import migrations

# Frozen here (reports.summaries.FUNNEL_SQL when this was written).
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


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_session_rebooked")]

    operations = [
        migrations.RunSQL(
            [
                f"CREATE MATERIALIZED VIEW reports_funnel AS {FUNNEL_SQL}",
                "CREATE UNIQUE INDEX reports_funnel_consultation ON reports_funnel (id)",
                "CREATE INDEX reports_funnel_start ON reports_funnel (location_id, start)",
                "INSERT INTO reports_summaryrefresh (name, refreshed_at) VALUES ('reports_funnel', now())",
            ],
            [
                "DELETE FROM reports_summaryrefresh WHERE name = 'reports_funnel'",
                "DROP MATERIALIZED VIEW IF EXISTS reports_funnel",
            ],
        ),
    ]
