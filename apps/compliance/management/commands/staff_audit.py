import sys

from django.core.management.base import BaseCommand

from apps.compliance.audit import run_audit
from apps.compliance.models import StaffAction


class Command(BaseCommand):
    help = "Check the staff-action trail's hash chain and guards on the live database; exit 1 and name each violation."

    def handle(self, *args, **options):
        results = run_audit()
        violations = 0
        for name, found in results.items():
            self.stdout.write(f"{'FAIL' if found else 'ok  '} {name}")
            for violation in found:
                self.stdout.write(f"     - {violation}")
            violations += len(found)
        counts = f"{StaffAction.objects.count()} staff actions"
        if violations:
            self.stdout.write(f"staff_audit: {violations} violation(s) in {counts}")
            sys.exit(1)
        self.stdout.write(f"staff_audit: clean ({counts})")
