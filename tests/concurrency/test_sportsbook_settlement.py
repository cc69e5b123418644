"""Sportsbook settlement under real concurrency (docs/sportsbook.md, "Settlement"): several
settlers, each with its own PostgreSQL connection, settle and resettle the same market at once;
two settlers handed the very same bets race through the wallet's ids. What must hold: each bet is
settled once per outcome and its money moved once, the exposure comes back to zero and equals its
recomputation, and the ledger's audit is clean. Then the hand-over itself: a feed's result
settles the market's bets after the batch commits, in the committing thread or on the background
workers."""

from __future__ import annotations

import random
import time
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from apps.accounts.tests.factories import make_player
from apps.sportsbook import intake, selectors, services, settlement, settler
from apps.sportsbook.models import Bet, BetSettlement, Market
from apps.sportsbook.tests.factories import a_match, post_batch, result
from apps.wallet import services as wallet
from apps.wallet.models import Entry, Transaction
from tests.concurrency.test_parallel_bets import assert_audit_clean, run_at_once

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PLAYERS = 10
BETS_EACH = 20
SETTLERS = 4
PRICES = {"home": "3.10", "draw": "3.20", "away": "2.40"}


def bets_on_one_market() -> list:
    """200 singles of 10 players on mk-1, on each of its three selections at random."""
    a_match(delay=0, markets=("mk-1",))
    rng = random.Random(7)
    players = [make_player() for _ in range(PLAYERS)]
    for player in players:
        wallet.adjust_balance(player_id=player.pk, amount=1_000_000, reason="test funding", acting_user=None)
        for n in range(BETS_EACH):
            name = rng.choice(tuple(PRICES))
            services.place_bet(player=player, idempotency_key=f"k{n}", stake=rng.randint(100, 1_000), currency="EUR",
                               legs=[intake.LegRequest(f"mk-1-{name}", Decimal(PRICES[name]), 1)],
                               accept_price_changes="none")  # fmt: skip
    return players


def house() -> int:
    return Entry.objects.filter(account__code="house").aggregate(total=Sum("amount"))["total"] or 0


def assert_settled_on(winner: str, settlements: int) -> None:
    """Every bet is settled on `winner` exactly as the rule says, with `settlements` rows each at
    most, and the ledger holds exactly the payouts: one win or resettlement per moved settlement."""
    bets = list(Bet.objects.prefetch_related("legs__selection"))
    assert len(bets) == PLAYERS * BETS_EACH
    for bet in bets:
        won = bet.legs.get().selection.selection_id == f"mk-1-{winner}"
        assert (bet.status, bet.payout) == (("won", bet.potential_payout) if won else ("lost", 0)), bet
    per_bet = BetSettlement.objects.values("bet").annotate(n=Count("pk")).values_list("n", flat=True)
    assert max(per_bet) <= settlements
    moved = BetSettlement.objects.exclude(difference=0)
    assert moved.count() == Transaction.objects.filter(kind__in=["win", "resettlement"]).count()
    assert (
        moved.aggregate(total=Sum("difference"))["total"]
        == (Transaction.objects.filter(kind__in=["win", "resettlement"]).aggregate(total=Sum("amount"))["total"])
    )
    paid = Bet.objects.aggregate(total=Sum("payout"))["total"]
    staked = Bet.objects.aggregate(total=Sum("stake"))["total"]
    assert house() == staked - paid
    assert selectors.stored_exposure() == {} == selectors.recompute_exposure()
    assert_audit_clean()


def test_settlers_sharing_a_market_settle_and_resettle_each_bet_once(monkeypatch, settings):
    settings.SPORTSBOOK_SETTLEMENT_BATCH = 20  # many claims each, so that the settlers interleave
    bets_on_one_market()
    handed = []
    # The feed's hand-over is left to the threads below: they are the settlers racing.
    monkeypatch.setattr(settler, "hand_over", handed.extend)
    market = Market.objects.get(market_id="mk-1").pk

    assert post_batch(result(100, "mk-1", winners=["mk-1-home"])).status_code == 200
    assert handed == [market]
    outcomes = run_at_once([lambda: settlement.settle_market(market) for _ in range(SETTLERS)])

    assert [outcome.error for outcome in outcomes if outcome.error is not None] == []
    assert sum(outcome.result for outcome in outcomes) == PLAYERS * BETS_EACH
    # Shared: more than one settler did some of the work.
    assert sum(1 for outcome in outcomes if outcome.result) > 1
    assert_settled_on("home", settlements=1)

    # The away side won after all: the same four settlers, each bet once more.
    assert post_batch(result(101, "mk-1", winners=["mk-1-away"])).status_code == 200
    outcomes = run_at_once([lambda: settlement.settle_market(market) for _ in range(SETTLERS)])

    assert [outcome.error for outcome in outcomes if outcome.error is not None] == []
    changed = Bet.objects.filter(legs__selection__selection_id__in=["mk-1-home", "mk-1-away"]).count()
    assert sum(outcome.result for outcome in outcomes) == changed
    assert_settled_on("away", settlements=2)
    assert selectors.list_markets_to_settle(limit=10) == []


def test_two_settlers_handed_the_same_bets_move_the_money_once(monkeypatch):
    """No claim shares them out here: both settlers compute every bet, and the wallet's ids and the
    bets' own check decide which of them writes each settlement."""
    bets_on_one_market()
    monkeypatch.setattr(settler, "hand_over", lambda pks: None)
    assert post_batch(result(100, "mk-1", winners=["mk-1-draw"])).status_code == 200
    ids = sorted(Bet.objects.values_list("pk", flat=True))

    outcomes = run_at_once([lambda: settlement.settle_bets(ids), lambda: settlement.settle_bets(ids[::-1])])

    assert [outcome.error for outcome in outcomes if outcome.error is not None] == []
    assert sum(outcome.result for outcome in outcomes) == len(ids)
    assert BetSettlement.objects.count() == len(ids)
    assert_settled_on("draw", settlements=1)


def test_a_feed_result_settles_its_bets_after_the_batch_commits():
    players = bets_on_one_market()

    assert post_batch(result(100, "mk-1", winners=["mk-1-home"])).status_code == 200

    # In the committing thread (the tests' setting): settled when the answer is back.
    assert not Bet.objects.filter(status="accepted").exists()
    assert_settled_on("home", settlements=1)
    assert players


def test_on_the_background_workers_the_bets_settle_after_the_answer(settings):
    settings.SPORTSBOOK_SETTLE_IN_BACKGROUND = True
    settings.SPORTSBOOK_SETTLEMENT_BATCH = 50  # several claims per worker
    bets_on_one_market()

    assert post_batch(result(100, "mk-1", winners=["mk-1-away"])).status_code == 200

    deadline = time.monotonic() + 60
    while Bet.objects.filter(status="accepted").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    while selectors.list_markets_to_settle(limit=1) and time.monotonic() < deadline:
        time.sleep(0.1)  # the last worker records the market as done
    assert_settled_on("away", settlements=1)
    lags = selectors.settlement_lags(Market.objects.get(market_id="mk-1").pk)
    assert len(lags) == PLAYERS * BETS_EACH
    assert min(lags) >= 0
