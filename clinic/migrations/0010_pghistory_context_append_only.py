"""``pghistory_context`` (who made each change) becomes append-only once its transaction commits.

pghistory writes a context row with ``INSERT ... ON CONFLICT DO UPDATE`` and merges later
metadata into it within the same transaction, so an update by the transaction (or one of
its savepoints) that inserted the row must pass. A row whose inserting transaction has
committed is history: any UPDATE or DELETE of it is refused.

``xmin`` is a 32-bit transaction id; it is widened to the 64-bit id of the current epoch
(one epoch back if that lands in the future) and ``txid_status`` says whether it is still
in progress. An uncommitted row of another transaction is never visible to this one, so "in
progress" means this transaction or one of its subtransactions.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION clinic_pghistory_context_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    current_xid bigint := txid_current();
    row_xid bigint := (current_xid & ~x'FFFFFFFF'::bigint) | OLD.xmin::text::bigint;
BEGIN
    IF row_xid > current_xid THEN
        row_xid := row_xid - 4294967296;
    END IF;
    IF row_xid < 3 OR txid_status(row_xid) IS DISTINCT FROM 'in progress' THEN
        RAISE EXCEPTION 'pghistory_context is append-only: row % was committed by an earlier transaction', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS clinic_context_append_only ON pghistory_context;
CREATE TRIGGER clinic_context_append_only
    BEFORE UPDATE OR DELETE ON pghistory_context
    FOR EACH ROW EXECUTE FUNCTION clinic_pghistory_context_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS clinic_context_append_only ON pghistory_context;
DROP FUNCTION IF EXISTS clinic_pghistory_context_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0009_user_delete_event_tracks_security_fields"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
