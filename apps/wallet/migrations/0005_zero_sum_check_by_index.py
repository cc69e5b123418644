"""The zero-sum trigger's look-up always goes through the entries' transaction index.

PL/pgSQL keeps the plan of the trigger's query for the life of the connection. Planned while
the statistics still described a nearly empty ledger (a fresh database, or autovacuum off), it
was a sequential scan of every entry, run twice per bet until the connection closed: a bet's
cost grew with the ledger (measured by `bench.profile_bet`). The planner is told not to choose a
sequential scan inside this function only.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER FUNCTION wallet_check_transaction_balanced() SET enable_seqscan = off")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER FUNCTION wallet_check_transaction_balanced() RESET enable_seqscan")


class Migration(migrations.Migration):
    dependencies = [("wallet", "0004_selective_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
