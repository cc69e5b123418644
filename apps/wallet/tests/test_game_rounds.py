"""`selectors.game_rounds`: a game's rounds by currency and stake band, from ledger rows written by
the real wallet services and the signed wallet API (bets, wins, rollbacks), in one statement."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.tests.factories import make_player
from apps.common import rtp
from apps.games import services as games
from apps.wallet import selectors, services
from apps.wallet.tests.factories import a_ref, funded_player
from apps.wallet.tests.test_api_wallet import PROVIDER, SECRET, call, money_body, rollback_body

pytestmark = pytest.mark.django_db

ACME = "provider:acme"
OTHER = "provider:other"


def play(player, origin, round_id, stakes, won=None, *, game="game-1", rolled_back=()):
    """One round through the wallet's services: a bet per stake, the rollbacks of the bets at the
    indexes in `rolled_back`, then a win of `won` (None: no win yet)."""
    refs = []
    for stake in stakes:
        ref = a_ref(origin)
        services.place_bet(player_id=player.pk, currency=player.currency_id, amount=stake, ref=ref,
                           round_id=round_id, game_id=game)  # fmt: skip
        refs.append(ref)
    for index in rolled_back:
        services.rollback_bet(player_id=player.pk, currency=player.currency_id,
                              rolled_back_external_id=refs[index].external_id, ref=a_ref(origin),
                              round_id=round_id, game_id=game)  # fmt: skip
    if won is not None:
        services.settle_win(player_id=player.pk, currency=player.currency_id, amount=won, ref=a_ref(origin),
                            round_id=round_id, game_id=game)  # fmt: skip


def totals(rows):
    return {(r.origin, r.game_id, r.currency, r.band): (r.rounds, r.staked, r.returned, r.staked_squares) for r in rows}


def test_rounds_are_grouped_by_game_currency_and_band_with_rollbacks_taken_off():
    eur, usd = funded_player(1_000_000), funded_player(1_000_000, currency="USD")
    play(eur, ACME, "r1", [50], 100)  # band 0
    play(eur, ACME, "r2", [500], 0)  # band 1, lost (a zero win)
    play(eur, ACME, "r3", [600, 600], 3_000)  # two bets: one round of 1,200, band 2
    play(eur, ACME, "r4", [200], rolled_back=[0])  # every bet rolled back: no round
    play(eur, ACME, "r5", [300, 300], 150, rolled_back=[1])  # one of two rolled back: 300, band 1
    play(eur, ACME, "r6", [700])  # not settled yet: counts, returned 0 so far
    play(usd, ACME, "r1", [100], 90)  # same round id, another player and currency
    play(eur, OTHER, "r1", [100], 500)  # same game id, another provider
    play(eur, ACME, "r7", [10_000], 0, game="game-2")
    services.adjust_balance(player_id=eur.pk, amount=5, reason="not a game", acting_user=None)

    since = timezone.now() - dt.timedelta(days=1)
    assert totals(selectors.game_rounds(since=since)) == {
        (ACME, "game-1", "EUR", 0): (1, 50, 100, 2_500),
        (ACME, "game-1", "EUR", 1): (3, 500 + 300 + 700, 0 + 150 + 0, 500**2 + 300**2 + 700**2),
        (ACME, "game-1", "EUR", 2): (1, 1_200, 3_000, 1_200**2),
        (ACME, "game-1", "USD", 1): (1, 100, 90, 100**2),
        (ACME, "game-2", "EUR", 3): (1, 10_000, 0, 10_000**2),
        (OTHER, "game-1", "EUR", 1): (1, 100, 500, 100**2),
    }
    assert totals(selectors.game_rounds(since=since, game_id="game-2")) == {
        (ACME, "game-2", "EUR", 3): (1, 10_000, 0, 10_000**2)
    }


def test_a_round_belongs_to_the_band_of_its_stake_exactly_at_the_edges():
    player = funded_player(10_000_000)
    stakes = [1, 99, 100, 999, 1_000, 9_999, 10_000, 123_456]
    for n, stake in enumerate(stakes):
        play(player, ACME, f"edge-{n}", [stake], 0)
    rows = selectors.game_rounds(since=timezone.now() - dt.timedelta(hours=1))
    assert {r.band: r.staked for r in rows} == {0: 1 + 99, 1: 100 + 999, 2: 1_000 + 9_999, 3: 10_000 + 123_456}
    assert [rtp.band_of(stake) for stake in stakes] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [rtp.band_label(band) for band in range(4)] == ["< 100", "100-999", "1,000-9,999", "≥ 10,000"]


def test_only_the_window_counts_and_a_round_whose_bet_is_older_is_left_out():
    player = funded_player(1_000_000)
    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(days=40), tick=False):
        play(player, ACME, "old", [100], 100)
    with time_machine.travel(start - dt.timedelta(days=31), tick=False):
        play(player, ACME, "straddles", [200])
    with time_machine.travel(start - dt.timedelta(days=29), tick=False):
        play(player, ACME, "straddles", [], 1_000)  # its win inside the window, its bet not
        play(player, ACME, "new", [300], 600)
    rows = selectors.game_rounds(since=start - dt.timedelta(days=30))
    assert totals(rows) == {(ACME, "game-1", "EUR", 1): (1, 300, 600, 300**2)}


def test_rounds_played_through_the_signed_wallet_api(client):
    games.save_provider(code=PROVIDER, secret=SECRET)
    player = make_player(currency="EUR")
    services.adjust_balance(player_id=player.pk, amount=100_000, reason="test set-up", acting_user=None)
    assert call(client, "bet", money_body(player, 250, tx="b1", round_id="api-1")).status_code == 200
    assert call(client, "win", money_body(player, 500, tx="w1", round_id="api-1")).status_code == 200
    assert call(client, "bet", money_body(player, 400, tx="b2", round_id="api-2")).status_code == 200
    assert call(client, "rollback", rollback_body(player, target="b2", tx="rb2", round_id="api-2")).status_code == 200
    assert call(client, "bet", money_body(player, 400, tx="b3", round_id="api-3")).status_code == 200
    assert call(client, "win", money_body(player, 0, tx="w3", round_id="api-3")).status_code == 200
    rows = selectors.game_rounds(since=timezone.now() - dt.timedelta(hours=1), game_id="game-1")
    assert totals(rows) == {(f"provider:{PROVIDER}", "game-1", "EUR", 1): (2, 650, 500, 250**2 + 400**2)}


def test_one_game_is_read_through_the_game_index():
    """The drift rule's read of one game uses the ledger's (game_id, created_at) index, so it reads
    that game's rows in the window and not the ledger (a plan with the sequential scan forbidden
    to the planner still finds the index: it exists and matches the statement)."""
    player = funded_player(100_000)
    play(player, ACME, "r1", [100], 50)
    since = timezone.now() - dt.timedelta(days=30)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + selectors._game_rounds_sql(True), ["game-1", since])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "transaction_game_idx" in plan, plan
    with CaptureQueriesContext(connection) as queries:
        selectors.game_rounds(since=since, game_id="game-1")
    assert len(queries) == 1
