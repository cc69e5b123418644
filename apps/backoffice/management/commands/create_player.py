"""Sandbox set-up: a player (accounts' service) and, with --balance, their first money (the
wallet's adjustment). It lives in the back office, the one app that may call both."""

from django.core.management.base import BaseCommand, CommandError

from apps.accounts import selectors as accounts_selectors
from apps.accounts import services as accounts
from apps.accounts.choices import KycStatus
from apps.common.errors import PamError
from apps.wallet import services as wallet


class Command(BaseCommand):
    help = (
        "Create a player (sandbox set-up), or find the existing one; --balance credits N minor units "
        "through an operator adjustment; --kyc sets the KYC status (e.g. verified). Prints the player id "
        "on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--password", required=True)
        parser.add_argument("--balance", type=int, default=None, help="minor units to credit")
        parser.add_argument("--brand", default=accounts.SANDBOX_BRAND)
        parser.add_argument("--country", default="MT")
        parser.add_argument("--kyc", choices=KycStatus.values, default=None, help="set the player's KYC status")

    def handle(self, *args, username, currency, password, balance, brand, country, kyc, **options):
        if balance is not None and balance < 0:
            raise CommandError("--balance credits: it must be positive")  # before anything is written
        player = accounts_selectors.find_player_by_username(username)
        if player is None:
            try:
                player = accounts.create_player(
                    username=username, password=password, currency=currency, brand=brand, country=country
                )
            except PamError as exc:
                raise CommandError(f"{exc.code}: {exc.message}") from None
        if kyc is not None:
            accounts.set_kyc_status(player_id=player.pk, kyc_status=kyc, reason="sandbox set-up")
        if balance:
            wallet.adjust_balance(player_id=player.pk, amount=balance, reason="sandbox set-up", acting_user=None)
        self.stdout.write(player.public_id)
