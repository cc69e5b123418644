"""The index the limits read the ledger through: a player's transactions by time, covering
`kind` and `amount`, so a rolling-window sum is an index-only range scan of that player's rows.

It is on the wallet's table but created here, because compliance is the only reader that needs
it (the wallet itself reads by version); the wallet's models do not declare it, so Django never
tries to drop it. PostgreSQL gets a covering index (INCLUDE); SQLite (embedded mode) a plain one.
"""

from django.db import migrations

NAME = "compliance_tx_player_time_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        sql = f"CREATE INDEX IF NOT EXISTS {NAME} ON wallet_transaction (player_id, created_at) INCLUDE (kind, amount)"
    else:
        sql = f"CREATE INDEX IF NOT EXISTS {NAME} ON wallet_transaction (player_id, created_at)"
    schema_editor.execute(sql)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("compliance", "0002_seed_jurisdiction_profiles"), ("wallet", "0003_adjust_balance_permission")]
    operations = [migrations.RunPython(create, drop)]
