"""The indexes the back office's list of the staff trail walks (docs/backoffice.md, "Large tables
in the admin"): one action's or one staff member's records, newest first.

`staff_action_actor_idx` (actor, id) replaces the actor's single-column index, which answered
nothing it does not; it is created before that one is dropped.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0014_game_rtp_drift"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="staffaction",
            index=models.Index(fields=["action", "id"], name="staff_action_action_idx"),
        ),
        migrations.AddIndex(
            model_name="staffaction",
            index=models.Index(fields=["actor", "id"], name="staff_action_actor_idx"),
        ),
        migrations.AlterField(
            model_name="staffaction",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
