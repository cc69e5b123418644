"""Seed the bench database (run as `python -m bench.seed N` with the bench environment):
a provider and N players funded through the wallet service, so every invariant holds."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402

from apps.accounts.models import Brand, Currency, Player, User  # noqa: E402
from apps.common.idempotency import ExternalRef  # noqa: E402
from apps.games.services import save_provider  # noqa: E402
from apps.wallet import services  # noqa: E402
from apps.wallet.choices import TransactionKind  # noqa: E402

FUNDS = 10_000_000


def main(count: int, provider: str, secret: str) -> None:
    save_provider(code=provider, secret=secret)
    brand, _ = Brand.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    eur = Currency.objects.get(code="EUR")
    unusable = make_password(None)
    with transaction.atomic():
        users = User.objects.bulk_create(User(username=f"bench{n}", password=unusable) for n in range(count))
        players = Player.objects.bulk_create(
            Player(user=u, brand=brand, email=f"{u.username}@bench.invalid", country="MT", currency=eur,
                   date_of_birth="1990-01-01", kyc_status="verified")
            for u in users
        )  # fmt: skip
    for player in players:
        services.credit(
            player_id=player.pk, currency="EUR", amount=FUNDS, kind=TransactionKind.DEPOSIT,
            ref=ExternalRef("bench-seed", str(player.pk), "seed"), counter="clearing:bench",
        )  # fmt: skip
    print(" ".join(str(p.pk) for p in players))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
