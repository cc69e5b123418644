"""The ledger's hash chain (apps/wallet/chain.py): a chain_hash on every transaction and the head
of each player's chain on their cash account, computed here for the transactions already written.

Computing them is the one time transactions are updated: on PostgreSQL the append-only trigger is
switched off for this migration's transaction only, and on again before it commits.
"""

from django.db import migrations, models

from apps.wallet import chain


def backfill(apps, schema_editor):
    Transaction = apps.get_model("wallet", "Transaction")
    Entry = apps.get_model("wallet", "Entry")
    Account = apps.get_model("wallet", "Account")
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute("ALTER TABLE wallet_transaction DISABLE TRIGGER wallet_transaction_append_only")
    heads: dict[int, str] = {}
    changed = []
    for tx, expected in chain.recompute(Transaction, Entry):
        tx.chain_hash = heads[tx.player_id] = expected
        changed.append(tx)
        if len(changed) >= 2000:
            Transaction.objects.bulk_update(changed, ["chain_hash"])
            changed = []
    Transaction.objects.bulk_update(changed, ["chain_hash"])
    for player_id, head in heads.items():
        Account.objects.filter(player_id=player_id, kind="cash").update(chain_hash=head)
    if postgresql:
        schema_editor.execute("ALTER TABLE wallet_transaction ENABLE TRIGGER wallet_transaction_append_only")


class Migration(migrations.Migration):
    dependencies = [("wallet", "0005_zero_sum_check_by_index")]
    operations = [
        migrations.AddField(
            model_name="account",
            name="chain_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="transaction",
            name="chain_hash",
            field=models.CharField(db_default="", max_length=64),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
