from django.db import migrations

# Frozen here (reports.summaries.BOOKED_DAY_SQL when this was written).
BOOKED_DAY_SQL = """
SELECT a.location_id, (a.start AT TIME ZONE l.time_zone)::date AS day, a.practitioner_id, a.room_id,
  sum(extract(epoch FROM a."end" - a.start) / 60)::float AS minutes
FROM clinic_appointment a JOIN clinic_location l ON l.id = a.location_id
WHERE a.status NOT IN ('cancelled', 'no_show')
GROUP BY 1, 2, 3, 4
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_plan_outcome")]

    operations = [
        migrations.RunSQL(
            [
                f"CREATE MATERIALIZED VIEW reports_booked_day AS {BOOKED_DAY_SQL}",
                "CREATE UNIQUE INDEX reports_booked_day_key ON reports_booked_day"
                " (location_id, day, practitioner_id, room_id)",
                "INSERT INTO reports_summaryrefresh (name, refreshed_at) VALUES ('reports_booked_day', now())",
            ],
            [
                "DELETE FROM reports_summaryrefresh WHERE name = 'reports_booked_day'",
                "DROP MATERIALIZED VIEW IF EXISTS reports_booked_day",
            ],
        ),
    ]
