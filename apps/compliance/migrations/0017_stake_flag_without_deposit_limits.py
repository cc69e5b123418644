"""`Player.needs_compliance_checks` now says whether a stake has anything to check: a deposit limit
alone no longer sets it (the cashier reads the deposit limits at every deposit's start). Clears
it on the players it was set for by deposit limits alone: no wager, loss or session limit in
force or pending, and no exclusion, KYC hold or reality check awaiting its acknowledgement on
their protection row. Conservative: any exclusion on the row keeps the flag (whether it still
blocks is for the services to decide at their next write), and a flag left set only costs a bet
the query it cost before.
"""

from django.db import migrations

CLEAR = """
UPDATE accounts_player AS p SET needs_compliance_checks = false
 WHERE p.needs_compliance_checks
   AND NOT EXISTS (SELECT 1 FROM compliance_limit l WHERE l.player_id = p.id
                    AND l.kind IN ('wager', 'loss', 'session') AND (l.amount IS NOT NULL OR l.has_pending))
   AND NOT EXISTS (SELECT 1 FROM compliance_playerprotection pp WHERE pp.player_id = p.id
                    AND (pp.exclusion_id IS NOT NULL OR pp.kyc_threshold_reached_at IS NOT NULL
                         OR (pp.last_reality_check_at IS NOT NULL
                             AND (pp.reality_check_acknowledged_at IS NULL
                                  OR pp.reality_check_acknowledged_at < pp.last_reality_check_at))))
"""


def clear(apps, schema_editor):
    schema_editor.execute(CLEAR, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0016_ledger_usage_index_after_the_wallets_rebuilds"),
        ("accounts", "0010_kyc_documents"),
    ]
    # Backwards: the flag left as it is (set again by the services' next write for a deposit limit).
    operations = [migrations.RunPython(clear, migrations.RunPython.noop)]
