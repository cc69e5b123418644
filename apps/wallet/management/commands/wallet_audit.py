import sys

from django.core.management.base import BaseCommand

from apps.wallet.audit import run_audit
from apps.wallet.models import Account, Entry, Transaction


class Command(BaseCommand):
    help = "Check every ledger invariant on the live database; exit 1 and name each violation if any."

    def handle(self, *args, **options):
        results = run_audit()
        violations = 0
        for name, found in results.items():
            self.stdout.write(f"{'FAIL' if found else 'ok  '} {name}")
            for violation in found:
                self.stdout.write(f"     - {violation}")
            violations += len(found)
        counts = f"{Transaction.objects.count()} transactions, {Entry.objects.count()} entries, "
        counts += f"{Account.objects.count()} accounts"
        if violations:
            self.stdout.write(f"wallet_audit: {violations} violation(s) in {counts}")
            sys.exit(1)
        self.stdout.write(f"wallet_audit: clean ({counts})")
