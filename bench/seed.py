"""Seed the bench database (run as `python -m bench.seed N PROVIDER SECRET [LIMITED]` with the
bench environment): a provider and N players funded through the wallet service, so every
invariant holds; the last LIMITED of them with every player-protection limit set (through the
compliance service, high enough that a bench bet never reaches one); with `BENCH_RULES=1`, every
seeded behaviour rule enabled afterwards (`enable_rules`). Prints the players without limits on
one line, those with limits on the next."""

import datetime as dt
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402

from apps.accounts.models import Brand, Currency, Player, User  # noqa: E402
from apps.common.idempotency import ExternalRef  # noqa: E402
from apps.compliance.choices import LimitKind, LimitPeriod  # noqa: E402
from apps.compliance.services import set_limit  # noqa: E402
from apps.games.services import save_provider  # noqa: E402
from apps.wallet import services  # noqa: E402
from apps.wallet.choices import TransactionKind  # noqa: E402

FUNDS = 10_000_000


# Every money limit in every period, and a session limit: the most a bet has to check.
LIMITS = [(kind, period, 10 * FUNDS) for kind in (LimitKind.DEPOSIT, LimitKind.LOSS, LimitKind.WAGER)
          for period in LimitPeriod.values] + [(LimitKind.SESSION, None, 24 * 60)]  # fmt: skip


def make_players(count: int, prefix: str = "bench") -> list[Player]:
    """`count` verified EUR players of the bench brand, who cannot log in, in two statements."""
    brand, _ = Brand.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    eur = Currency.objects.get(code="EUR")
    unusable = make_password(None)
    with transaction.atomic():
        users = User.objects.bulk_create(User(username=f"{prefix}{n}", password=unusable) for n in range(count))
        return Player.objects.bulk_create(
            Player(user=u, brand=brand, email=f"{u.username}@bench.invalid", country="MT", currency=eur,
                   date_of_birth="1990-01-01", kyc_status="verified")
            for u in users
        )  # fmt: skip


def bench_rule_parameters(rule) -> dict:
    """A seeded rule's parameters for the benchmarks, where every bet pays each rule's whole
    evaluation: micro-bets raised so that no bench player is locked (each bet still pays its
    upsert and its window's read, and none is refused), and the night made the hours around now
    (UTC), so that night play reads each bet's session as it would at 3 a.m."""
    if rule.type == "micro_bet":
        return {**rule.parameters, "max_bets": 1_000_000}
    if rule.type == "night_play":
        hour = dt.datetime.now(dt.UTC).hour
        return {**rule.parameters, "night_start_hour": (hour - 1) % 24, "night_end_hour": (hour + 3) % 24,
                "timezone": "UTC"}  # fmt: skip
    return rule.parameters


def enable_rules() -> None:
    """Enable every seeded behaviour rule through the compliance service, as an operator would,
    with `bench_rule_parameters`."""
    from apps.accounts.choices import StaffRole
    from apps.accounts.services import create_staff_user
    from apps.compliance.models import Rule
    from apps.compliance.services import save_rule

    officer = create_staff_user(username="bench-compliance", password=os.urandom(16).hex(), role=StaffRole.COMPLIANCE)
    for rule in Rule.objects.all():
        save_rule(code=rule.code, rule_type=rule.type, parameters=bench_rule_parameters(rule), severity=rule.severity,
                  actions=rule.actions, enabled=True, acting_user=officer, reason="bench: every rule on")  # fmt: skip


def main(count: int, provider: str, secret: str, limited: int = 0) -> None:
    save_provider(code=provider, secret=secret)
    players = make_players(count)
    for player in players:
        services.credit(
            player_id=player.pk, currency="EUR", amount=FUNDS, kind=TransactionKind.DEPOSIT,
            ref=ExternalRef("bench-seed", str(player.pk), "seed"), counter="clearing:bench",
        )  # fmt: skip
    free, with_limits = players[: count - limited], players[count - limited :]
    for player in with_limits:
        for kind, period, amount in LIMITS:
            set_limit(player=player, kind=kind, period=period, amount=amount)
    if os.environ.get("BENCH_RULES") == "1":
        enable_rules()
    print(" ".join(str(p.pk) for p in free))
    print(" ".join(str(p.pk) for p in with_limits))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
