"""The liability throttle under real concurrency: twenty players bet on one market at once, each
on a thread with its own PostgreSQL connection, against a throttle whose limit a few of their
bets reach. The window moves under the market row's lock, so exactly one bet takes it over the
limit: the market is suspended once (one version, one trail record), and every bet taken before
the suspension is in the window."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.accounts.tests.factories import make_player
from apps.compliance.models import StaffAction
from apps.sportsbook import intake, services
from apps.sportsbook.errors import MarketSuspended
from apps.sportsbook.models import Bet, Exposure, Market
from apps.sportsbook.tests.factories import a_match
from apps.wallet import services as wallet
from tests.concurrency.test_parallel_bets import assert_audit_clean, run_at_once

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 20
LIABILITY = 2_100  # 1,000 cents at 3.10


def test_twenty_bets_at_once_cross_the_throttle_once(settings, monkeypatch):
    # 100 euros a minute: the fifth bet on the market takes it over (4 x 2,100 <= 10,000 < 5 x 2,100).
    settings.SPORTSBOOK_THROTTLE = {"window_s": 60.0, "limit": 100, "cap_share": "0"}
    a_match(delay=0)
    players = [make_player() for _ in range(THREADS)]
    for player in players:
        wallet.adjust_balance(player_id=player.pk, amount=10_000, reason="test funding", acting_user=None)
    crossings = []
    suspend = services.suspend_throttled_markets

    def counted(*, market_pks, crossed_at):
        crossings.append(list(market_pks))
        return suspend(market_pks=market_pks, crossed_at=crossed_at)

    monkeypatch.setattr(services, "suspend_throttled_markets", counted)

    def bettor(player):
        def run():
            try:
                services.place_bet(player=player, idempotency_key="k", stake=1_000, currency="EUR",
                                   legs=[intake.LegRequest("mk-1-home", Decimal("3.10"), 1)],
                                   accept_price_changes="none")  # fmt: skip
            except MarketSuspended:
                return "refused"
            return "taken"

        return run

    outcomes = run_at_once([bettor(player) for player in players])

    assert [outcome.error for outcome in outcomes if outcome.error is not None] == []
    taken = [outcome.result for outcome in outcomes].count("taken")
    market = Market.objects.get()
    assert len(crossings) == 1, crossings  # one bet crossed it
    assert crossings == [[market.pk]]
    assert (market.status, market.version, market.suspended_version, market.throttle_suspended) == (
        "suspended", 2, 2, True)  # fmt: skip
    assert StaffAction.objects.filter(action=services.MARKET_THROTTLED).count() == 1
    assert taken >= 5  # at least the four under the limit and the one that crossed it
    assert Bet.objects.filter(status="accepted").count() == taken
    assert Exposure.objects.get(scope="market").window_amount == taken * LIABILITY
    assert_audit_clean()
