"""On PostgreSQL, webhook records are append-only once decided: a trigger rejects every DELETE,
and every UPDATE of a record whose verdict is no longer `pending` (the one update a record gets
is its verdict, written when its effect has committed) or that changes what was received.
Embedded SQLite has no trigger."""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION payments_webhook_event_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.verdict = 'pending'
       AND (NEW.provider_id, NEW.event_id, NEW.type, NEW.reference, NEW.received_at)
           IS NOT DISTINCT FROM (OLD.provider_id, OLD.event_id, OLD.type, OLD.reference, OLD.received_at)
       AND NEW.amount IS NOT DISTINCT FROM OLD.amount AND NEW.currency = OLD.currency
       AND NEW.body IS NOT DISTINCT FROM OLD.body THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'webhook_event_append_only: % on % is not allowed; a decided webhook record is final',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER payments_webhook_event_append_only BEFORE UPDATE OR DELETE ON payments_webhookevent
    FOR EACH ROW EXECUTE FUNCTION payments_webhook_event_reject_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS payments_webhook_event_append_only ON payments_webhookevent;
DROP FUNCTION IF EXISTS payments_webhook_event_reject_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
