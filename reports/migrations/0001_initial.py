from django.db import migrations, models

# Frozen here: reports/summaries.py may change the view later, in a migration of its own.
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


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("clinic", "0019_normalise_phone_numbers"),
        ("consultations", "0005_questionnaire_answers_to_confirm"),
        ("treatments", "0004_clinical_safety"),
    ]

    operations = [
        migrations.CreateModel(
            name="SummaryRefresh",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=64, unique=True, verbose_name="summary")),
                ("refreshed_at", models.DateTimeField(verbose_name="refreshed at")),
            ],
            options={"verbose_name": "summary refresh", "verbose_name_plural": "summary refreshes"},
        ),
        migrations.RunSQL(
            [
                f"CREATE MATERIALIZED VIEW reports_plan_progress AS {PLAN_PROGRESS_SQL}",
                "CREATE UNIQUE INDEX reports_plan_progress_plan ON reports_plan_progress (plan_id)",
                "CREATE INDEX reports_plan_progress_due ON reports_plan_progress (location_id, due_on, plan_id)"
                " WHERE NOT booked_ahead",
                "INSERT INTO reports_summaryrefresh (name, refreshed_at) VALUES ('reports_plan_progress', now())",
            ],
            [
                "DELETE FROM reports_summaryrefresh WHERE name = 'reports_plan_progress'",
                "DROP MATERIALIZED VIEW IF EXISTS reports_plan_progress",
            ],
        ),
    ]
