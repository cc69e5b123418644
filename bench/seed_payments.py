"""Seed the payments bench (run as `python -m bench.seed_payments PLAYERS INTENTS SECRET` with the
bench environment): the sandbox provider with SECRET, PLAYERS verified players and INTENTS pending
deposits among them, started through the payments service as the cashier API starts them. Prints
the provider's code on the first line, then one line per deposit: its id, amount and currency."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from apps.payments import services  # noqa: E402
from bench.seed import make_players  # noqa: E402

AMOUNT = 2_500


def main(players: int, intents: int, secret: str) -> None:
    provider = services.save_provider(code="sandbox", webhook_secret=secret)
    rows = make_players(players, prefix="payer")
    print(provider.code)
    for n in range(intents):
        started = services.start_deposit(
            player=rows[n % players], amount=AMOUNT, currency="EUR", provider_code=provider.code,
            idempotency_key=f"bench-{n}",
        )  # fmt: skip
        print(started.payment.public_id, AMOUNT, "EUR")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
