from django.core.management.base import BaseCommand, CommandError

from apps.studio.crash_verify import verify_rounds


class Command(BaseCommand):
    help = (
        "Recompute the crash room's crashed rounds from their revealed seeds and check the hash chain; "
        "the last line is `verified <n> rounds, <m> mismatches`, and the exit status is 1 on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=None, help="only the last N crashed rounds")

    def handle(self, *args, rounds=None, **options):
        if rounds is not None and rounds < 1:
            raise CommandError("--rounds must be at least 1")
        report = verify_rounds(rounds)
        for line in report.mismatches:
            self.stdout.write(f"MISMATCH {line}")
        self.stdout.write(f"verified {report.verified} rounds, {len(report.mismatches)} mismatches")
        if report.mismatches:
            raise SystemExit(1)
