import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services as accounts
from apps.accounts.models import Brand, Player
from apps.common.errors import PamError
from apps.wallet import services as wallet

SANDBOX_BRAND = ("sandbox", "Sandbox")


class Command(BaseCommand):
    help = (
        "Create a player (sandbox set-up), or find the existing one; --balance credits N minor units "
        "through an operator adjustment. Prints the player id on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--password", required=True)
        parser.add_argument("--balance", type=int, default=None, help="minor units to credit")
        parser.add_argument("--brand", default=SANDBOX_BRAND[0])
        parser.add_argument("--country", default="MT")

    def handle(self, *args, username, currency, password, balance, brand, country, **options):
        player = Player.objects.filter(user__username=username).first()
        if player is None:
            Brand.objects.get_or_create(code=brand, defaults={"name": brand.title()})
            try:
                player = accounts.register_player(
                    accounts.Registration(
                        username=username,
                        email=f"{username}@sandbox.invalid",
                        password=password,
                        date_of_birth=dt.date(1990, 1, 1),
                        country=country,
                        currency=currency,
                        brand=brand,
                    )
                )
            except PamError as exc:
                raise CommandError(f"{exc.code}: {exc.message}") from None
        if balance:
            if balance < 0:
                raise CommandError("--balance credits: it must be positive")
            wallet.adjust_balance(player_id=player.pk, amount=balance, reason="sandbox set-up", acting_user=None)
        self.stdout.write(player.public_id)
