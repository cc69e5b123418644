"""Pay a cash-back campaign's latest ended period from the console (the sweep does it on its own
as each period ends): every player with a net loss in it, the whole period in one run."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from apps.bonuses import selectors, services


class Command(BaseCommand):
    help = (
        "Pay the cash-back campaign CODE's latest period ended at --at (ISO-8601; default now) to every "
        "player with a net loss in it. A period already paid pays nothing more. Prints the period and "
        "how many bonuses it granted."
    )

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--at", default=None, help="ISO-8601 with a time zone; default: now")

    def handle(self, *args, code, at, **options):
        campaign = selectors.find_cashback_campaign(code)
        if campaign is None:
            raise CommandError(f"No cash-back campaign {code!r}.")
        moment = None
        if at is not None:
            try:
                moment = dt.datetime.fromisoformat(at)
            except ValueError:
                raise CommandError(f"--at {at!r} is not an ISO-8601 time.") from None
            if moment.tzinfo is None:
                raise CommandError("--at needs a time zone (e.g. 2026-03-09T00:00:00Z).")
        payment = services.grant_cashback(campaign, moment)
        if payment is None:
            raise CommandError(f"{campaign.code}'s first period has not ended.")
        self.stdout.write(
            f"{campaign.code} {payment.period_start.isoformat()} to {payment.period_end.isoformat()}: "
            f"{len(payment.granted)} granted"
        )
