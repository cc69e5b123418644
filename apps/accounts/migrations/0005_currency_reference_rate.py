from decimal import Decimal

from django.db import migrations, models

# Approximate reference rates (units one euro buys) for the home currencies of the seeded
# jurisdictions and their neighbours, so that a KYC threshold stated in euros means about as much
# for a GBP or SEK player. The operator keeps them current in the admin; a currency left without
# a rate is treated as the safe case (compliance.selectors.kyc_threshold).
SEED_RATES = {
    "EUR": "1", "GBP": "0.85", "SEK": "11.0", "NOK": "11.7", "DKK": "7.46", "USD": "1.10", "CHF": "0.94",
    "CAD": "1.55",
}  # fmt: skip


def seed(apps, schema_editor):
    Currency = apps.get_model("accounts", "Currency")
    for code, rate in SEED_RATES.items():
        Currency.objects.filter(code=code, units_per_eur__isnull=True).update(units_per_eur=Decimal(rate))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_player_protection_fields")]

    operations = [
        migrations.AddField(
            model_name="currency",
            name="units_per_eur",
            field=models.DecimalField(
                blank=True, decimal_places=6, help_text="units of this currency one euro buys", max_digits=18, null=True
            ),
        ),
        migrations.AddConstraint(
            model_name="currency",
            constraint=models.CheckConstraint(condition=models.Q(units_per_eur__gt=0), name="currency_rate_positive"),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
