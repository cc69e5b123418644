"""The indexes the back office's lists of the ledger walk (docs/backoffice.md, "Large tables in
the admin"): a page of transactions of one kind newest first, and an account's entries in order.

`wallet_entry_account_idx` (account, id) replaces the account's single-column index: it answers the
same look-ups, so an entry still pays one index write for its account. `transaction_kind_idx`
leaves out bets and wins, nearly every row, which the primary key pages through by itself. It is
created before the old index is dropped, so the account's entries are never without one.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("wallet", "0010_adjustment_requests")]

    operations = [
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["account", "id"], name="wallet_entry_account_idx"),
        ),
        migrations.AlterField(
            model_name="entry",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="wallet.account",
            ),
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(("kind__in", ["bet", "win"]), _negated=True),
                fields=["kind", "id"],
                name="transaction_kind_idx",
            ),
        ),
    ]
