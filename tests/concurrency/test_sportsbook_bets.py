"""Sportsbook bets under real concurrency: 20 threads, each with its own PostgreSQL connection,
place bets on shared markets against exposure caps that most of them reach.

What must hold (docs/sportsbook.md, "Exposure"): no stored exposure ever exceeds its cap, the
stored exposure equals its recomputation from the bets exactly, every accepted bet's stake is in
the house and no refused one moved money, and nothing deadlocks (every thread finishes; a
deadlock would surface as a 500-like OperationalError in an outcome). The 10,000-bet version of
this is a benchmark, not a test. Then twenty threads release the same pending bets at once: each
is decided once, its money moved once.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from apps.accounts.tests.factories import make_player
from apps.sportsbook import intake, selectors, services
from apps.sportsbook.errors import StakeTooHigh
from apps.sportsbook.models import Bet, Exposure
from apps.sportsbook.tests.factories import a_match, live, post_batch, suspend
from apps.wallet import errors as wallet_errors
from apps.wallet import services as wallet
from apps.wallet.models import Entry, Transaction
from tests.concurrency.test_parallel_bets import assert_audit_clean, run_at_once

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 20
BETS_EACH = 50
MARKETS = ("mk-1", "mk-2", "mk-3")
SELECTIONS = [(f"{market}-{name}", price) for market in MARKETS
              for name, price in (("home", "3.10"), ("draw", "3.20"), ("away", "2.40"))]  # fmt: skip


def test_twenty_threads_placing_bets_against_caps_never_breach_one(settings):
    # Caps in whole euros, small enough that most bets meet one: a selection takes 400 of
    # liability, a market 900, the event 2,000, the platform 2,500 (the event's markets share it).
    settings.SPORTSBOOK_LIMITS = {"selection": 400, "market": 900, "event": 2_000, "platform": 2_500,
                                  "bet_liability": 200, "max_payout": 1_000}  # fmt: skip
    a_match(delay=0, markets=MARKETS)
    players = [make_player() for _ in range(THREADS)]
    for player in players:
        wallet.adjust_balance(player_id=player.pk, amount=1_000_000, reason="test funding", acting_user=None)

    def bettor(player, seed: int):
        def run():
            rng = random.Random(seed)
            taken = refused = 0
            for n in range(BETS_EACH):
                count = rng.choice((1, 1, 1, 2))
                markets = rng.sample(MARKETS, count)
                legs = [
                    intake.LegRequest(selection, Decimal(price), 1)
                    for selection, price in (rng.choice([s for s in SELECTIONS if s[0].startswith(f"{market}-")])
                                             for market in markets)
                ]  # fmt: skip
                try:
                    services.place_bet(player=player, idempotency_key=f"{seed}-{n}", stake=rng.randint(100, 5_000),
                                       currency="EUR", legs=legs, accept_price_changes="none")  # fmt: skip
                    taken += 1
                except (StakeTooHigh, wallet_errors.InsufficientFunds):
                    refused += 1
            return taken, refused

        return run

    outcomes = run_at_once([bettor(player, seed) for seed, player in enumerate(players)])

    errors = [outcome.error for outcome in outcomes if outcome.error is not None]
    assert errors == []
    taken = sum(outcome.result[0] for outcome in outcomes)
    refused = sum(outcome.result[1] for outcome in outcomes)
    assert taken + refused == THREADS * BETS_EACH
    # The caps were reached, and bets were taken up to them.
    assert taken > 0
    assert refused > 0
    limits = intake.limits_of("EUR")
    breaches = [row for row in Exposure.objects.all() if row.amount > limits[row.scope]]
    assert breaches == []
    assert selectors.stored_exposure() == selectors.recompute_exposure()
    staked = Bet.objects.aggregate(total=Sum("stake"))["total"]
    assert balance_of("house") == staked
    assert Bet.objects.count() == taken
    assert_audit_clean()


def test_twenty_releasers_racing_decide_each_pending_bet_once():
    # In play with a delay: every bet is pending, its stake held. Then a market is suspended (its
    # bets must be rejected, the others accepted), and twenty threads release every bet at once,
    # each in its own order, beside the sweep.
    seq = a_match(delay=5, markets=("mk-1", "mk-2"))
    assert post_batch(live(seq)).status_code == 200
    players = [make_player() for _ in range(THREADS)]
    for player in players:
        wallet.adjust_balance(player_id=player.pk, amount=100_000, reason="test funding", acting_user=None)
    for n, player in enumerate(players):
        for m in range(10):
            market = ("mk-1", "mk-2")[(n + m) % 2]
            services.place_bet(player=player, idempotency_key=f"{n}-{m}", stake=100 + m, currency="EUR",
                               legs=[intake.LegRequest(f"{market}-home", Decimal("3.10"), 1)],
                               accept_price_changes="none")  # fmt: skip
    assert post_batch(suspend(seq + 1, market_id="mk-2")).status_code == 200
    ids = list(Bet.objects.values_list("pk", flat=True))
    later = max(Bet.objects.values_list("release_at", flat=True))

    def releaser(seed: int):
        def run():
            order = random.Random(seed).sample(ids, len(ids))
            for bet_id in order:
                services.release_pending_bet(bet_id=bet_id, now=later)
            return services.release_due_bets(now=later)

        return run

    outcomes = run_at_once([releaser(seed) for seed in range(THREADS)])

    assert [outcome.error for outcome in outcomes if outcome.error is not None] == []
    statuses = dict(Bet.objects.values_list("status").annotate(count=Count("pk")).values_list("status", "count"))
    assert statuses == {"accepted": 100, "rejected": 100}
    assert set(Bet.objects.filter(status="rejected").values_list("legs__market__market_id", flat=True)) == {"mk-2"}
    assert Transaction.objects.filter(kind="bet_accepted").count() == 100
    assert Transaction.objects.filter(kind="rollback").count() == 100
    accepted = Bet.objects.filter(status="accepted").aggregate(total=Sum("stake"))["total"]
    assert balance_of("house") == accepted
    assert balance_of("pending_bets") == 0
    assert selectors.stored_exposure() == selectors.recompute_exposure()
    assert_audit_clean()


def balance_of(code: str) -> int:
    return Entry.objects.filter(account__code=code).aggregate(total=Sum("amount"))["total"] or 0
