"""A refused cashier request's answer, kept under its Idempotency-Key (models.CashierRefusal): the
same key and body get it again, another body DUPLICATE_TRANSACTION. One per player, endpoint and
key; the operation and the status (a 4xx) CHECKed. No existing row to fill."""

import django.core.serializers.json
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0012_check_lists_as_arrays'),
        ('payments', '0006_deposit_early_reversal'),
    ]

    operations = [
        migrations.CreateModel(
            name='CashierRefusal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('operation', models.CharField(choices=[('deposit', 'Deposit'), ('withdrawal', 'Withdrawal')], max_length=16)),
                ('idempotency_key', models.CharField(max_length=100)),
                ('request_fingerprint', models.CharField(max_length=64)),
                ('status', models.PositiveSmallIntegerField(help_text="the answer's HTTP status")),
                ('code', models.CharField(max_length=40)),
                ('message', models.TextField()),
                ('details', models.JSONField(blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder, help_text="what the answer's error object carried besides")),
                ('extra', models.JSONField(blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder, help_text='what the answer carried beside its error object')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('player', 'operation', 'idempotency_key'), name='cashier_refusal_key_per_player'), models.CheckConstraint(condition=models.Q(('operation__one_of', ['deposit', 'withdrawal'])), name='cashier_refusal_operation_valid'), models.CheckConstraint(condition=models.Q(('status__gte', 400), ('status__lt', 500)), name='cashier_refusal_status_4xx')],
            },
        ),
    ]
