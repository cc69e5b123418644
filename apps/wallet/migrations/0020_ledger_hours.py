"""The ledger summed by player, hour and kind (PostgreSQL): `wallet_ledger_hour`, kept by a trigger
on every transaction with an amount, in the transaction's own database transaction, so it always
equals the ledger's own sum (`wallet_audit` recomputes it). A rolling window's usage then reads
the window's whole hours from it and only the edge hour's rows from the ledger
(`selectors.ledger_windows_sql`): a limited player's bet no longer sums every transaction of the
last thirty days. The amounts are `Transaction.amount`; what a resettlement or a chargeback leaves
as debt is read from those rare rows through their own partial index.

The trigger is made before the table is filled from the ledger, in one migration transaction:
CREATE TRIGGER waits for every transaction writing the ledger and holds off new ones until the
commit, so no row is counted twice or missed: on a large ledger, writes wait for the fill (one
GROUP BY over the ledger). Embedded SQLite sums the ledger as before.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARDS = """
ALTER TABLE wallet_ledger_hour
    ADD CONSTRAINT wallet_ledger_hour_on_the_hour CHECK (hour = date_trunc('hour', hour, 'UTC'));
CREATE FUNCTION wallet_count_ledger_hour() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wallet_ledger_hour AS h (player_id, hour, kind, amount)
    VALUES (NEW.player_id, date_trunc('hour', NEW.created_at, 'UTC'), NEW.kind, NEW.amount)
    ON CONFLICT (player_id, hour, kind) DO UPDATE SET amount = h.amount + EXCLUDED.amount;
    RETURN NULL;
END $$;
CREATE TRIGGER wallet_transaction_counted_by_hour AFTER INSERT ON wallet_transaction
    FOR EACH ROW WHEN (NEW.amount <> 0) EXECUTE FUNCTION wallet_count_ledger_hour();
INSERT INTO wallet_ledger_hour (player_id, hour, kind, amount)
    SELECT player_id, date_trunc('hour', created_at, 'UTC'), kind, SUM(amount) FROM wallet_transaction
     WHERE amount <> 0 GROUP BY 1, 2, 3 HAVING SUM(amount) <> 0;
CREATE INDEX wallet_tx_debt_leaving_idx ON wallet_transaction (player_id, created_at)
    WHERE kind IN ('resettlement', 'chargeback');
"""

BACKWARDS = """
DROP INDEX IF EXISTS wallet_tx_debt_leaving_idx;
DROP TRIGGER IF EXISTS wallet_transaction_counted_by_hour ON wallet_transaction;
DROP FUNCTION IF EXISTS wallet_count_ledger_hour();
ALTER TABLE wallet_ledger_hour DROP CONSTRAINT IF EXISTS wallet_ledger_hour_on_the_hour;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARDS, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARDS, params=None)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0019_check_lists_as_arrays"), ("accounts", "0012_check_lists_as_arrays")]

    operations = [
        migrations.CreateModel(
            name="LedgerHour",
            fields=[
                ("pk", models.CompositePrimaryKey("player_id", "hour", "kind", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("hour", models.DateTimeField(help_text="the hour's start, UTC")),
                ("kind", models.CharField(choices=[
                    ("bet", "Bet"), ("win", "Win"), ("rollback", "Rollback"), ("deposit", "Deposit"),
                    ("withdrawal", "Withdrawal"), ("adjustment", "Adjustment"), ("bonus", "Bonus"),
                    ("withdrawal_paid", "Withdrawal paid"), ("withdrawal_returned", "Withdrawal returned"),
                    ("refund", "Deposit refunded"), ("chargeback", "Chargeback"), ("debt_repaid", "Debt repaid"),
                    ("bonus_converted", "Bonus converted"), ("bonus_expired", "Bonus expired"),
                    ("bonus_forfeited", "Bonus forfeited"), ("bonus_cancelled", "Bonus cancelled"),
                    ("bet_accepted", "Held bet accepted"), ("resettlement", "Win resettled down"),
                ], max_length=24)),
                ("amount", models.BigIntegerField(help_text="minor units, the sum of the hour's transactions of the kind")),
                ("player", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                             related_name="+", to="accounts.player")),
            ],
            options={"db_table": "wallet_ledger_hour"},
        ),
        migrations.RunPython(forwards, backwards),
    ]
