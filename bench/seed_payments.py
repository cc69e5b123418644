"""Seed the payments bench (run as `python -m bench.seed_payments PLAYERS INTENTS SECRET` with the
bench environment): the sandbox provider with SECRET, PLAYERS verified players and INTENTS pending
deposits among them, started through the payments service as the cashier API starts them. Prints
the provider's code on the first line, then one line per deposit: its id, amount and currency."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402

from apps.accounts.models import Brand, Currency, Player, User  # noqa: E402
from apps.payments import services  # noqa: E402

AMOUNT = 2_500


def main(players: int, intents: int, secret: str) -> None:
    provider = services.save_provider(code="sandbox", webhook_secret=secret)
    brand, _ = Brand.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    eur = Currency.objects.get(code="EUR")
    unusable = make_password(None)
    with transaction.atomic():
        users = User.objects.bulk_create(User(username=f"payer{n}", password=unusable) for n in range(players))
        rows = Player.objects.bulk_create(
            Player(user=u, brand=brand, email=f"{u.username}@bench.invalid", country="MT", currency=eur,
                   date_of_birth="1990-01-01", kyc_status="verified")
            for u in users
        )  # fmt: skip
    print(provider.code)
    for n in range(intents):
        started = services.start_deposit(
            player=rows[n % players], amount=AMOUNT, currency="EUR", provider_code=provider.code,
            idempotency_key=f"bench-{n}",
        )  # fmt: skip
        print(started.payment.public_id, AMOUNT, "EUR")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
