from django.core.management.base import BaseCommand

from apps.common.audit_report import write_report
from apps.wallet.audit import run_audit
from apps.wallet.models import Account, Entry, Transaction


class Command(BaseCommand):
    help = "Check every ledger invariant on the live database; exit 1 and name each violation if any."

    def handle(self, *args, **options):
        results = run_audit()
        counts = f"{Transaction.objects.count()} transactions, {Entry.objects.count()} entries, "
        counts += f"{Account.objects.count()} accounts"
        write_report(self, "wallet_audit", results, counts)
