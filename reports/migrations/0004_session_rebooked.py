from django.db import migrations

# Frozen here (reports.summaries.SESSION_REBOOKED_SQL when this was written).
SESSION_REBOOKED_SQL = """
SELECT s.id AS session_id, a.location_id, a.start, s.aesthetician_id, s.patient_id,
  EXISTS (SELECT 1 FROM clinic_appointment n WHERE n.patient_id = s.patient_id AND n.start > a.start
    AND n.created_at < (date_trunc('day', a.start AT TIME ZONE l.time_zone) + interval '1 day') AT TIME ZONE l.time_zone
  ) AS rebooked
FROM treatments_treatmentsession s JOIN clinic_appointment a ON a.id = s.appointment_id
JOIN clinic_location l ON l.id = a.location_id
WHERE s.status = 'signed' AND (s.sessions_planned IS NULL OR s.session_number < s.sessions_planned)
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_booked_day")]

    operations = [
        migrations.RunSQL(
            [
                f"CREATE MATERIALIZED VIEW reports_session_rebooked AS {SESSION_REBOOKED_SQL}",
                "CREATE UNIQUE INDEX reports_session_rebooked_session ON reports_session_rebooked (session_id)",
                "CREATE INDEX reports_session_rebooked_start ON reports_session_rebooked (location_id, start)",
                "INSERT INTO reports_summaryrefresh (name, refreshed_at) VALUES ('reports_session_rebooked', now())",
            ],
            [
                "DELETE FROM reports_summaryrefresh WHERE name = 'reports_session_rebooked'",
                "DROP MATERIALIZED VIEW IF EXISTS reports_session_rebooked",
            ],
        ),
    ]
