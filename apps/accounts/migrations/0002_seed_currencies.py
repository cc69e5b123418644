from django.db import migrations

from apps.common.money import ISO_4217


def seed(apps, schema_editor):
    Currency = apps.get_model("accounts", "Currency")
    for code, (name, exponent) in ISO_4217.items():
        Currency.objects.update_or_create(code=code, defaults={"name": name, "exponent": exponent})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
