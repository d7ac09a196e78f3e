from django.db import migrations

# Frozen here (reports.summaries.APPOINTMENT_DAY_SQL when this was written; the comment there
# proves that "lead_h < L" is the raw late-cancellation rule for 1 <= L <= 336).
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


class Migration(migrations.Migration):
    dependencies = [("reports", "0007_refresh_any_reports_summary")]

    operations = [
        migrations.RunSQL(
            [
                f"CREATE MATERIALIZED VIEW reports_appointment_day AS {APPOINTMENT_DAY_SQL}",
                # No column of the key is ever NULL (lead_h has a sentinel), so REFRESH ...
                # CONCURRENTLY matches unchanged rows. Leading with (location_id, day), it is
                # also the index the report reads a range of days through.
                "CREATE UNIQUE INDEX reports_appointment_day_key ON reports_appointment_day"
                " (location_id, day, appointment_type_id, status, lead_h)",
                "INSERT INTO reports_summaryrefresh (name, refreshed_at) VALUES ('reports_appointment_day', now())",
            ],
            [
                "DELETE FROM reports_summaryrefresh WHERE name = 'reports_appointment_day'",
                "DROP MATERIALIZED VIEW IF EXISTS reports_appointment_day",
            ],
        ),
    ]
