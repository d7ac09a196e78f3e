from django.db import migrations

# Frozen here (reports.outcomes.PLAN_OUTCOME_SQL when this was written): a later change to
# the view comes in a migration of its own.
PLAN_OUTCOME_SQL = """
WITH r AS (
  SELECT DISTINCT ON (r.plan_id) r.plan_id, r.lesions_present, r.iga, r.gags_total, r.decided_at
  FROM treatments_progressreview r ORDER BY r.plan_id, r.decided_at, r.id
)
SELECT pl.id AS plan_id, pl.patient_id, ca.location_id, r.decided_at, co.iga AS iga0, r.iga AS iga1,
  co.gags_score AS gags0, r.gags_total AS gags1, co.fitzpatrick,
  (SELECT coalesce(sum((z.v ->> 'open_comedones')::int), 0) FROM jsonb_each(co.lesion_counts) AS z(k, v)) AS b_open_comedones, (SELECT coalesce(sum((z.v ->> 'closed_comedones')::int), 0) FROM jsonb_each(co.lesion_counts) AS z(k, v)) AS b_closed_comedones, (SELECT coalesce(sum((z.v ->> 'papules')::int), 0) FROM jsonb_each(co.lesion_counts) AS z(k, v)) AS b_papules, (SELECT coalesce(sum((z.v ->> 'pustules')::int), 0) FROM jsonb_each(co.lesion_counts) AS z(k, v)) AS b_pustules, (SELECT coalesce(sum((z.v ->> 'nodules')::int), 0) FROM jsonb_each(co.lesion_counts) AS z(k, v)) AS b_nodules, (SELECT coalesce(sum((z.v ->> 'cysts')::int), 0) FROM jsonb_each(co.lesion_counts) AS z(k, v)) AS b_cysts,
  (SELECT coalesce(sum((z.v ->> 'open_comedones')::int), 0) FROM jsonb_each(r.lesions_present) AS z(k, v)) AS f_open_comedones, (SELECT coalesce(sum((z.v ->> 'closed_comedones')::int), 0) FROM jsonb_each(r.lesions_present) AS z(k, v)) AS f_closed_comedones, (SELECT coalesce(sum((z.v ->> 'papules')::int), 0) FROM jsonb_each(r.lesions_present) AS z(k, v)) AS f_papules, (SELECT coalesce(sum((z.v ->> 'pustules')::int), 0) FROM jsonb_each(r.lesions_present) AS z(k, v)) AS f_pustules, (SELECT coalesce(sum((z.v ->> 'nodules')::int), 0) FROM jsonb_each(r.lesions_present) AS z(k, v)) AS f_nodules, (SELECT coalesce(sum((z.v ->> 'cysts')::int), 0) FROM jsonb_each(r.lesions_present) AS z(k, v)) AS f_cysts,
  ss.method, ss.aesthetician, ss.product, ss.sessions
FROM r JOIN consultations_treatmentplan pl ON pl.id = r.plan_id
JOIN consultations_consultation co ON co.id = pl.consultation_id
JOIN clinic_appointment ca ON ca.id = co.appointment_id
CROSS JOIN LATERAL (
  SELECT count(*) AS sessions,
    coalesce(mode() WITHIN GROUP (ORDER BY s.extraction_method), '') AS method,
    coalesce(mode() WITHIN GROUP (ORDER BY concat_ws(' ', u.first_name, u.last_name)), '') AS aesthetician,
    coalesce(mode() WITHIN GROUP (ORDER BY pr.name), '') AS product
  FROM treatments_treatmentsession s JOIN clinic_user u ON u.id = s.aesthetician_id
  LEFT JOIN treatments_productlot l ON l.id = s.product_lot_id LEFT JOIN treatments_product pr ON pr.id = l.product_id
  WHERE s.plan_id = pl.id AND s.status = 'signed' AND s.started_at <= r.decided_at
) ss
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [
        migrations.RunSQL(
            [
                f"CREATE MATERIALIZED VIEW reports_plan_outcome AS {PLAN_OUTCOME_SQL}",
                "CREATE UNIQUE INDEX reports_plan_outcome_plan ON reports_plan_outcome (plan_id)",
                "CREATE INDEX reports_plan_outcome_decided ON reports_plan_outcome (location_id, decided_at)",
                "INSERT INTO reports_summaryrefresh (name, refreshed_at) VALUES ('reports_plan_outcome', now())",
            ],
            [
                "DELETE FROM reports_summaryrefresh WHERE name = 'reports_plan_outcome'",
                "DROP MATERIALIZED VIEW IF EXISTS reports_plan_outcome",
            ],
        ),
    ]
