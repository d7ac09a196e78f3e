from django.db import migrations

# reports_refresh_summary (0006) refreshes any of the reports' materialized views, by name:
# a view of this schema whose name starts with "reports_". A new summary then needs no new
# version of the function. Still only a refresh, still nothing else.
CREATE = """
CREATE OR REPLACE FUNCTION reports_refresh_summary(summary text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_matviews v WHERE v.matviewname = summary
                 AND v.schemaname = current_schema() AND starts_with(summary, 'reports_')) THEN
    RAISE EXCEPTION 'not a reports summary: %', summary;
  END IF;
  EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I', summary);
END
$$
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION reports_refresh_summary(summary text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  IF summary NOT IN ('reports_plan_progress', 'reports_plan_outcome', 'reports_booked_day',
                     'reports_session_rebooked', 'reports_funnel') THEN
    RAISE EXCEPTION 'not a reports summary: %', summary;
  END IF;
  EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I', summary);
END
$$
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0006_refresh_function")]

    operations = [migrations.RunSQL(CREATE, PREVIOUS)]
