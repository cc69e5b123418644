"""Seed the in-play delay's benchmark (run as `python -m bench.bet_delay_setup N` with the bench
environment): N players funded through the wallet service, each with an API token. Prints one
token a line."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from apps.accounts.services import issue_token  # noqa: E402
from apps.common.idempotency import ExternalRef  # noqa: E402
from apps.wallet import services  # noqa: E402
from apps.wallet.choices import TransactionKind  # noqa: E402
from bench.seed import FUNDS, make_players  # noqa: E402


def main(count: int) -> None:
    players = make_players(count, prefix="betdelay")
    for player in players:
        services.credit(
            player_id=player.pk, currency="EUR", amount=FUNDS, kind=TransactionKind.DEPOSIT,
            ref=ExternalRef("bench-seed", str(player.pk), "seed"), counter="clearing:bench",
        )  # fmt: skip
        print(issue_token(player.user), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
