"""The limits' ledger index (0003_ledger_usage_index) again, once every wallet migration has run.

On SQLite a migration that alters a column rebuilds the table (a copy under a new name), and the
copy carries only the indexes the wallet's models declare: the wallet's later migrations left
embedded databases without this one, which the wallet's models do not declare (0003 says why).
`IF NOT EXISTS`: a database that kept it, as every PostgreSQL one did, is left as it is.
"""

from django.db import migrations

NAME = "compliance_tx_player_time_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        sql = f"CREATE INDEX IF NOT EXISTS {NAME} ON wallet_transaction (player_id, created_at) INCLUDE (kind, amount)"
    else:
        sql = f"CREATE INDEX IF NOT EXISTS {NAME} ON wallet_transaction (player_id, created_at)"
    schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0015_staffaction_list_index"), ("wallet", "0014_resettlement")]
    # Backwards: 0003's own reverse drops the index; this one leaves it to it.
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
