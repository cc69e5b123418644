"""What the in-process profilers (profile_bet, profile_settlement, scaling_costs) share: the CPU a
PostgreSQL backend has used, where a profiled function lives, and funded players to profile with."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent) + "/"


def backend_cpu_of(pid: int) -> float:
    """CPU seconds the PostgreSQL backend `pid` (on this machine) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def package_of(filename: str) -> str:
    """`django.db`, `psycopg`, `apps.wallet`, `stdlib/builtins`…: where a profiled function lives."""
    if "site-packages/" in filename:
        parts = filename.split("site-packages/", 1)[1].split("/")
        return ".".join(parts[:2]) if parts[0] in ("django", "rest_framework") else parts[0]
    if filename.startswith(ROOT):
        return ".".join(filename.removeprefix(ROOT).split("/")[:2]).removesuffix(".py")
    return "stdlib/builtins"


def funded_players(prefix: str, count: int) -> list[int]:
    """`count` verified EUR players of a brand `prefix`, each credited 10,000,000.00: their ids."""
    from apps.accounts.models import Brand, Currency, Player, User
    from apps.common.idempotency import ExternalRef
    from apps.wallet import services
    from apps.wallet.choices import TransactionKind

    brand, _ = Brand.objects.get_or_create(code=prefix, defaults={"name": prefix.title()})
    eur = Currency.objects.get(code="EUR")
    players = []
    for n in range(count):
        user = User.objects.create(username=f"{prefix}{n}")
        player = Player.objects.create(user=user, brand=brand, email=f"{prefix}{n}@x.invalid", country="MT",
                                       currency=eur, date_of_birth="1990-01-01", kyc_status="verified")  # fmt: skip
        services.credit(player_id=player.pk, currency="EUR", amount=10**9, kind=TransactionKind.DEPOSIT,
                        ref=ExternalRef(prefix, str(player.pk), "seed"), counter=f"clearing:{prefix}")  # fmt: skip
        players.append(player.pk)
    return players
