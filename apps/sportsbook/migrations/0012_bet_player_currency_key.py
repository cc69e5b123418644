"""A bet's player and currency as one foreign key on PostgreSQL, as the ledger's transactions'
(wallet 0018): `(player_id, currency_id)` to the player's `(id, currency_id)` (accounts 0011), in
place of one key to the player and one to the currency. A bet is in its player's currency (a slip
in another is refused before anything is written), with one check at commit instead of two and
no scan of the currency table.

The model keeps both fields as foreign keys with no constraint of their own (`db_constraint=False`).
On SQLite nothing changes in the database: its tables keep the two keys they were created with.
"""

import django.db.models.deletion
from django.db import migrations, models

COMPOSITE = """
ALTER TABLE sportsbook_bet
    DROP CONSTRAINT sportsbook_bet_player_id_e008f272_fk_accounts_player_id,
    DROP CONSTRAINT sportsbook_bet_currency_id_0349dff9_fk_accounts_currency_code,
    ADD CONSTRAINT sportsbook_bet_player_currency_fk FOREIGN KEY (player_id, currency_id)
        REFERENCES accounts_player (id, currency_id) DEFERRABLE INITIALLY DEFERRED;
"""

SINGLE = """
ALTER TABLE sportsbook_bet
    DROP CONSTRAINT sportsbook_bet_player_currency_fk,
    ADD CONSTRAINT sportsbook_bet_player_id_e008f272_fk_accounts_player_id FOREIGN KEY (player_id)
        REFERENCES accounts_player (id) DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT sportsbook_bet_currency_id_0349dff9_fk_accounts_currency_code FOREIGN KEY (currency_id)
        REFERENCES accounts_currency (code) DEFERRABLE INITIALLY DEFERRED;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COMPOSITE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SINGLE)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0011_player_id_currency_unique"), ("sportsbook", "0011_bet_function")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="bet",
                    name=name,
                    field=models.ForeignKey(
                        db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT,
                        related_name="+", to=to,
                    ),
                )
                for name, to in (("player", "accounts.player"), ("currency", "accounts.currency"))
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
