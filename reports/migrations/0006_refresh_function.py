from django.db import migrations

# The app's database role owns nothing (README, "Security model"), and only a view's owner may
# refresh it: this function, owned by the migrating role and run with its rights (SECURITY
# DEFINER), refreshes one of the reports' summaries by name and nothing else.
CREATE = """
CREATE FUNCTION reports_refresh_summary(summary text) RETURNS void
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
    dependencies = [("reports", "0005_funnel")]

    operations = [migrations.RunSQL(CREATE, "DROP FUNCTION IF EXISTS reports_refresh_summary(text)")]
