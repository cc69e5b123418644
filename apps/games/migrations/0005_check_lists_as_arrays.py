"""The CHECK constraints that list a column's allowed values, each list as one array constant on
PostgreSQL (apps/common/lookups.py, `one_of`): the same rules, cheaper to read back on every
insert and update. On SQLite the SQL is the `IN` it was, and the tables are left as they are."""

from django.db import migrations, models

from apps.common.lookups import OnPostgreSQL


class Migration(migrations.Migration):
    # Each constraint's validation a transaction of its own: see OnPostgreSQL.
    atomic = False

    dependencies = [
        ('games', '0001_squashed_0004_game_rtp'),
    ]

    operations = [
        OnPostgreSQL(
            migrations.RemoveConstraint(
                model_name='game',
                name='game_type_known',
            ),
            migrations.AddConstraint(
                model_name='game',
                constraint=models.CheckConstraint(condition=models.Q(('game_type__one_of', ['slots', 'table', 'live', 'crash', 'other'])), name='game_type_known'),
            ),
        ),
    ]
