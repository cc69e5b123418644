"""Sportsbook bets under real concurrency: 20 threads, each with its own PostgreSQL connection,
place bets on shared markets against exposure caps that most of them reach.

What must hold (docs/sportsbook.md, "Exposure"): no stored exposure ever exceeds its cap, the
stored exposure equals its recomputation from the bets exactly, every accepted bet's stake is in
the house and no refused one moved money, and nothing deadlocks (every thread finishes; a
deadlock would surface as a 500-like OperationalError in an outcome). The 10,000-bet version of
this is a benchmark, not a test.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.db.models import Sum

from apps.accounts.tests.factories import make_player
from apps.sportsbook import intake, selectors, services
from apps.sportsbook.errors import StakeTooHigh
from apps.sportsbook.models import Bet, Exposure
from apps.sportsbook.tests.factories import a_match
from apps.wallet import errors as wallet_errors
from apps.wallet import services as wallet
from apps.wallet.models import Entry
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
    assert Entry.objects.filter(account__code="house").aggregate(total=Sum("amount"))["total"] == staked
    assert Bet.objects.count() == taken
    assert_audit_clean()
