"""The bet function's JSON strings (`wallet_json_string`, migration 0015) declared STABLE, which
is what they are: `to_json` is STABLE in PostgreSQL's catalogue.

Declared IMMUTABLE over a STABLE body, the function could not be inlined into the expressions
that call it: each of the eight strings of a bet's chain hash ran as a SQL function call of its
own, an executor started and stopped every time. Inlined, they are plain expressions in the
function's cached plan. Measured in-process on PostgreSQL 15 (`bench.profile_bet`, backend CPU per
bet through the bet function): 660 to 700 µs before, 550 to 580 µs after; the hash, the rows
and the outcomes are the same (apps/wallet/tests/test_fast_bet.py holds them equal to the Python
path's).
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER FUNCTION wallet_json_string(text) STABLE")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER FUNCTION wallet_json_string(text) IMMUTABLE")


class Migration(migrations.Migration):
    dependencies = [("wallet", "0015_bet_function")]
    operations = [migrations.RunPython(forwards, backwards)]
