from django.core.management.base import BaseCommand

from apps.common.audit_report import write_report
from apps.compliance.audit import run_audit
from apps.compliance.models import StaffAction


class Command(BaseCommand):
    help = "Check the staff-action trail's hash chain and guards on the live database; exit 1 and name each violation."

    def handle(self, *args, **options):
        results = run_audit()
        write_report(self, "staff_audit", results, f"{StaffAction.objects.count()} staff actions")
