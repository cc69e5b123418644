"""The CHECK constraints that list a column's allowed values, each list as one array constant on
PostgreSQL (apps/common/lookups.py, `one_of`): the same rules, cheaper to read back on every
insert and update. On SQLite the SQL is the `IN` it was, and the tables are left as they are."""

from django.db import migrations, models

from apps.common.lookups import OnPostgreSQL


class Migration(migrations.Migration):
    # Each constraint's validation a transaction of its own: see OnPostgreSQL.
    atomic = False

    dependencies = [
        ('accounts', '0011_player_id_currency_unique'),
    ]

    operations = [
        OnPostgreSQL(
            migrations.RemoveConstraint(
                model_name='kycdocument',
                name='kyc_document_type_sniffed',
            ),
            migrations.RemoveConstraint(
                model_name='kycdocument',
                name='kyc_document_kind_valid',
            ),
            migrations.RemoveConstraint(
                model_name='player',
                name='player_status_valid',
            ),
            migrations.RemoveConstraint(
                model_name='player',
                name='player_kyc_status_valid',
            ),
            migrations.RemoveConstraint(
                model_name='player',
                name='player_bonus_state_valid',
            ),
            migrations.AddConstraint(
                model_name='kycdocument',
                constraint=models.CheckConstraint(condition=models.Q(('content_type__one_of', ['application/pdf', 'image/jpeg', 'image/png'])), name='kyc_document_type_sniffed'),
            ),
            migrations.AddConstraint(
                model_name='kycdocument',
                constraint=models.CheckConstraint(condition=models.Q(('kind__one_of', ['passport', 'id_card', 'driving_licence', 'proof_of_address', 'other'])), name='kyc_document_kind_valid'),
            ),
            migrations.AddConstraint(
                model_name='player',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['active', 'locked', 'frozen', 'closed'])), name='player_status_valid'),
            ),
            migrations.AddConstraint(
                model_name='player',
                constraint=models.CheckConstraint(condition=models.Q(('kyc_status__one_of', ['unverified', 'pending', 'verified', 'rejected'])), name='player_kyc_status_valid'),
            ),
            migrations.AddConstraint(
                model_name='player',
                constraint=models.CheckConstraint(condition=models.Q(('bonus_state__one_of', ['none', 'active', 'converted', 'returned'])), name='player_bonus_state_valid'),
            ),
        ),
    ]
