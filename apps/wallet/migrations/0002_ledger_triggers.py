"""PostgreSQL guards of the ledger: append-only transactions and entries, and entries that sum to
zero per currency for each transaction, checked at commit (a deferred constraint trigger, since
the entries of one transaction are inserted one statement after another).

Embedded SQLite has the CHECK constraints only; `wallet_audit` re-verifies everything.
"""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION wallet_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wallet_ledger_append_only: % on % is not allowed; post a correcting transaction',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER wallet_transaction_append_only BEFORE UPDATE OR DELETE ON wallet_transaction
    FOR EACH ROW EXECUTE FUNCTION wallet_reject_change();
CREATE TRIGGER wallet_entry_append_only BEFORE UPDATE OR DELETE ON wallet_entry
    FOR EACH ROW EXECUTE FUNCTION wallet_reject_change();
"""

ZERO_SUM = """
CREATE OR REPLACE FUNCTION wallet_check_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT currency_id, SUM(amount) AS total INTO unbalanced
      FROM wallet_entry WHERE transaction_id = NEW.transaction_id
     GROUP BY currency_id HAVING SUM(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'wallet_transaction_unbalanced: entries of transaction % sum to % %',
            NEW.transaction_id, unbalanced.total, unbalanced.currency_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER wallet_entry_transaction_balanced AFTER INSERT ON wallet_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallet_check_transaction_balanced();
"""

REVERSE = """
DROP TRIGGER IF EXISTS wallet_entry_transaction_balanced ON wallet_entry;
DROP TRIGGER IF EXISTS wallet_entry_append_only ON wallet_entry;
DROP TRIGGER IF EXISTS wallet_transaction_append_only ON wallet_transaction;
DROP FUNCTION IF EXISTS wallet_check_transaction_balanced();
DROP FUNCTION IF EXISTS wallet_reject_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)
        schema_editor.execute(ZERO_SUM, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
