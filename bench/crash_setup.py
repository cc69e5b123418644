"""Seed the crash room's benchmark (run as `python -m bench.crash_setup N` with the bench
environment): the studio registered as a provider with the settings' code and secret, as the
lobby's provisioning does, and N players funded through the wallet service, each with a fresh
launch token for the studio. Prints one signed launch query string of `pam-crash` a line (the
player's own rules: no shortest cycle, autoplay allowed, session info shown)."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from django.conf import settings  # noqa: E402

from apps.common import launch  # noqa: E402
from apps.common.idempotency import ExternalRef  # noqa: E402
from apps.games.services import issue_launch_token, save_provider  # noqa: E402
from apps.wallet import services  # noqa: E402
from apps.wallet.choices import TransactionKind  # noqa: E402
from bench.seed import FUNDS, make_players  # noqa: E402

GAME = "pam-crash"


def main(count: int) -> None:
    provider = save_provider(code=settings.STUDIO_PROVIDER_CODE, secret=settings.STUDIO_PROVIDER_SECRET)
    players = make_players(count, prefix="crash")
    for player in players:
        services.credit(
            player_id=player.pk, currency="EUR", amount=FUNDS, kind=TransactionKind.DEPOSIT,
            ref=ExternalRef("bench-seed", str(player.pk), "seed"), counter="clearing:bench",
        )  # fmt: skip
    for player in players:
        params = {
            "token": issue_launch_token(player=player, provider=provider),
            "jurisdiction": "bench",
            "min_cycle_ms": "0",
            "autoplay": "1",
            "session_info": "1",
        }
        print(launch.signed_query(settings.STUDIO_PROVIDER_SECRET, GAME, params), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
