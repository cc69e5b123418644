"""A refund or chargeback that arrives before its deposit's success is kept on the deposit
(`early_reversal`, with its event in `reversal_event`) and taken back in the success's own
transaction. The CHECKs say what the column may hold: one of the two reversal events, only with
the event's id, on a deposit not credited, or on one the success left as its reversal says
(never `succeeded`). Existing rows have no early reversal and satisfy them as they are."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0012_check_lists_as_arrays'),
        ('payments', '0005_check_lists_as_arrays'),
    ]

    operations = [
        migrations.AddField(
            model_name='depositintent',
            name='early_reversal',
            field=models.CharField(blank=True, choices=[('deposit.refunded', 'Refund before the success'), ('deposit.chargeback', 'Chargeback before the success')], help_text="a refund or chargeback that came before the deposit's success: taken back with the credit", max_length=32),
        ),
        migrations.AlterField(
            model_name='depositintent',
            name='reversal_event',
            field=models.CharField(blank=True, help_text='the refund or chargeback event that took the money back, or waits for the success to', max_length=100),
        ),
        migrations.AddConstraint(
            model_name='depositintent',
            constraint=models.CheckConstraint(condition=models.Q(('early_reversal__one_of', ['', 'deposit.refunded', 'deposit.chargeback'])), name='deposit_early_reversal_valid'),
        ),
        migrations.AddConstraint(
            model_name='depositintent',
            constraint=models.CheckConstraint(condition=models.Q(('early_reversal', ''), models.Q(('reversal_event', ''), _negated=True), _connector='OR'), name='deposit_early_reversal_names_event'),
        ),
        migrations.AddConstraint(
            model_name='depositintent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__one_of', ['pending', 'failed']), _negated=True), ('reversal_event', ''), models.Q(('early_reversal', ''), _negated=True), _connector='OR'), name='deposit_uncredited_reversal_waits'),
        ),
        migrations.AddConstraint(
            model_name='depositintent',
            constraint=models.CheckConstraint(condition=models.Q(('early_reversal', ''), ('status__one_of', ['pending', 'failed']), models.Q(('early_reversal', 'deposit.refunded'), ('status', 'refunded')), models.Q(('early_reversal', 'deposit.chargeback'), ('status', 'charged_back')), _connector='OR'), name='deposit_early_reversal_taken_back_with_credit'),
        ),
    ]
