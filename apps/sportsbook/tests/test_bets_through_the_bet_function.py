"""A free player's bet slip through the wallet's bet function (apps/wallet/fast_bet.py).

A pre-match slip that passes as the service read it is one statement, `sportsbook_place_bet`
(intake.statement_of): the stake, the bet, its legs and the exposure exactly as the Python path
writes them. A slip that statement does not take as it is (a leg that moved since the read, an
exposure row missing, a cap, a market's throttle crossed) goes to the bet function with the
participant in Python (`_with_detail`), in one transaction: a refusal there moves nothing and
carries the balance from before. A stake the player cannot afford, a held stake and a player a
participant acts on are the Python path's, and answered as it answers them.

Every other test of the sportsbook's bets takes these ways too, for their players are free."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.common.errors import PamError
from apps.common.models import OutboxEvent
from apps.sportsbook import intake, selectors, services, signals
from apps.sportsbook.choices import BetStatus
from apps.sportsbook.intake import LegRequest
from apps.sportsbook.models import Bet, Exposure, Market, Selection
from apps.sportsbook.tests.factories import a_match, live, market, send, suspend
from apps.sportsbook.throttle import Window, take
from apps.wallet import audit, extensions, fast_bet
from apps.wallet import selectors as wallet_selectors
from apps.wallet.models import Account, Entry, Transaction
from apps.wallet.tests.factories import bet, funded_player

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def house_account():
    """The house account exists (the function leaves the bet that opens it to the Python path)."""
    bet(funded_player(10), 1)


HOME = [LegRequest("mk-1-home", Decimal("3.10"), 1)]


def place(player, key: str = "key-1", legs=HOME, stake: int = 1_000) -> tuple[CaptureQueriesContext, object]:
    """Place the slip; the statements it ran and its answer (the Placed, or the refusal)."""
    with CaptureQueriesContext(connection) as captured:
        try:
            answer = services.place_bet(player=player, idempotency_key=key, stake=stake, currency="EUR", legs=legs,
                                        accept_price_changes="none")  # fmt: skip
        except PamError as refusal:
            answer = refusal
    return captured, answer


def on_the_python_path(player, **kwargs) -> tuple[CaptureQueriesContext, object]:
    with mock.patch.object(fast_bet, "usable", return_value=False):
        return place(player, **kwargs)


def with_the_participant_in_python(player, **kwargs) -> tuple[CaptureQueriesContext, object]:
    with mock.patch.object(intake, "statement_of", return_value=None):
        return place(player, **kwargs)


def ways(captured) -> list[str]:
    """How the stake was tried, in order: `statement` (sportsbook_place_bet), `function` (the
    wallet's bet function, the participant in Python), `python` (the Python path's lock)."""
    found = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if "sportsbook_place_bet" in sql:
            found.append("statement")
        elif "wallet_place_bet" in sql:
            found.append("function")
        elif "FOR UPDATE OF a" in sql:
            found.append("python")
    return found


VARYING_IN_EVENT = ("player_id", "transaction_id", "created_at")


def written(bet: Bet) -> dict:
    """What a slip wrote, without what differs between two players' bets (ids, keys, times)."""
    stake = bet.stake_transaction
    varying = {"id", "player_id", "external_id", "fingerprint", "round_id", "chain_hash", "created_at"}
    row = {field.attname: getattr(stake, field.attname) for field in Transaction._meta.concrete_fields}
    entries = sorted(
        (entry.account.kind, entry.account.code, entry.amount, entry.balance_after, entry.account_version)
        for entry in Entry.objects.filter(transaction=stake).select_related("account")
    )
    cash = Account.objects.get(player_id=stake.player_id, kind="cash")
    payload = OutboxEvent.objects.get(name="wallet.transaction_posted", payload__transaction_id=str(stake.pk)).payload
    return {
        "transaction": {name: value for name, value in row.items() if name not in varying},
        "round": stake.round_id == bet.public_id,
        "entries": entries,
        "cash": (cash.balance, cash.version, cash.chain_hash == stake.chain_hash),
        "bet": (bet.status, bet.stake, bet.potential_payout, bet.currency_id, bet.reject_reason),
        "legs": list(bet.legs.values_list("selection__selection_id", "price", "seen_price", "market_version")),
        "event": {key: value for key, value in payload.items() if key not in VARYING_IN_EVENT},
    }


def refusal_of(answer) -> tuple:
    assert isinstance(answer, PamError), answer
    return type(answer), answer.details, answer.extra


def test_a_free_players_slip_writes_in_one_statement_what_the_other_ways_write():
    a_match()
    first, second, third = funded_player(10_000), funded_player(10_000), funded_player(10_000)

    through, placed = place(first)
    participant, placed_too = with_the_participant_in_python(second)
    python, placed_also = on_the_python_path(third)

    assert (ways(through), ways(participant), ways(python)) == (["statement"], ["function"], ["python"])
    assert written(Bet.objects.get(public_id=placed.bet.public_id)) == written(
        Bet.objects.get(public_id=placed_too.bet.public_id)
    )
    assert written(Bet.objects.get(public_id=placed.bet.public_id)) == written(
        Bet.objects.get(public_id=placed_also.bet.public_id)
    )
    stored = Bet.objects.get(public_id=placed.bet.public_id)
    assert (placed.bet.pk, placed.bet.placed_at, placed.bet.status) == (stored.pk, stored.placed_at, stored.status)
    assert placed.bet.status == BetStatus.ACCEPTED
    assert wallet_selectors.get_wallet_state(first.pk).balance == 9_000
    home = Selection.objects.get(selection_id="mk-1-home")
    assert selectors.stored_exposure()[("selection", home.pk, "EUR")] == 3 * 2_100
    assert selectors.recompute_exposure() == selectors.stored_exposure()
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_an_accumulator_is_one_statement_too():
    a_match(markets=("mk-1", "mk-2"))
    player = funded_player(10_000)
    legs = [LegRequest("mk-1-home", Decimal("3.10"), 1), LegRequest("mk-2-draw", Decimal("3.20"), 1)]

    captured, placed = place(player, legs=legs)

    assert ways(captured) == ["statement"]
    assert placed.bet.potential_payout == 9_920
    assert list(Bet.objects.get().legs.order_by("position").values_list("selection__selection_id", flat=True)) == [
        "mk-1-home", "mk-2-draw",
    ]  # fmt: skip
    assert selectors.recompute_exposure() == selectors.stored_exposure()


def test_a_replay_of_the_key_answers_the_first_bet_and_moves_nothing():
    a_match()
    player = funded_player(10_000)
    _, first = place(player)

    captured, again = place(player)

    assert ways(captured) == ["statement"]
    assert again.replayed is True
    assert again.bet.public_id == first.bet.public_id
    assert Bet.objects.count() == 1
    assert Transaction.objects.filter(player=player, kind="bet").count() == 1
    assert wallet_selectors.get_wallet_state(player.pk).balance == 9_000


def test_a_cap_refusing_the_slip_is_worded_by_the_participant_and_moves_nothing():
    a_match()
    home = Selection.objects.get(selection_id="mk-1-home").pk
    services.set_exposure_cap(scope="selection", target_id=home, currency="EUR", cap=5_000, reason="hot",
                              acting_user=None)  # fmt: skip
    first, second = funded_player(10_000), funded_player(10_000)
    events = OutboxEvent.objects.count()

    through, refused = place(first, stake=2_400)
    _, refused_too = on_the_python_path(second, stake=2_400)

    assert ways(through) == ["statement", "function"]
    assert refusal_of(refused) == refusal_of(refused_too)
    assert refused.extra == {"balance": 10_000, "currency": "EUR"}
    assert refused.details == {"max_stake": 2_381}
    assert wallet_selectors.get_wallet_state(first.pk).balance == 10_000
    assert Transaction.objects.filter(player=first, kind="bet").exists() is False
    assert Bet.objects.exists() is False
    assert OutboxEvent.objects.count() == events
    assert selectors.recompute_exposure() == selectors.stored_exposure()
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}
    # The largest stake the cap takes is one statement again.
    captured, placed = place(first, key="key-2", stake=2_381)
    assert (ways(captured), placed.bet.status) == (["statement"], BetStatus.ACCEPTED)


THROTTLE_OFF = {"window_s": 60.0, "limit": 0, "cap_share": "0"}
THROTTLE_WIDE = {"window_s": 60.0, "limit": 1_000_000, "cap_share": "0"}  # on, never crossed here


@pytest.mark.parametrize(
    ("scope", "throttle"),
    [("market", THROTTLE_OFF), ("market", THROTTLE_WIDE), ("event", THROTTLE_OFF), ("event", THROTTLE_WIDE),
     ("platform", THROTTLE_OFF)],
    ids=["market", "market-window-moving", "event", "event-window-moving", "platform"],
)  # fmt: skip
def test_every_rows_cap_holds_in_the_statement_to_the_minor_unit(settings, scope, throttle):
    """The market's, event's and platform's caps hold in the statement to the minor unit as the
    selection's does (the test above), a market's row whether its throttle window moves or not:
    the largest stake the cap takes is one statement, and a stake a unit more is the participant's
    refusal."""
    settings.SPORTSBOOK_THROTTLE = throttle
    a_match()
    home = Selection.objects.select_related("market").get(selection_id="mk-1-home")
    target = {"selection": home.pk, "market": home.market_id, "event": home.market.event_id, "platform": 0}[scope]
    services.set_exposure_cap(scope=scope, target_id=target, currency="EUR", cap=5_000, reason="hot",
                              acting_user=None)  # fmt: skip
    player = funded_player(10_000)

    over, refused = place(player, key="over", stake=2_382)  # liability 5,002
    taken, placed = place(player, key="within", stake=2_381)  # liability 5,000: the cap exactly

    assert ways(over) == ["statement", "function"]
    assert refusal_of(refused)[1] == {"max_stake": 2_381}
    assert (ways(taken), placed.bet.status) == (["statement"], BetStatus.ACCEPTED)
    assert Exposure.objects.get(scope=scope, target_id=target).amount == 5_000
    assert wallet_selectors.get_wallet_state(player.pk).balance == 10_000 - 2_381
    assert selectors.recompute_exposure() == selectors.stored_exposure()
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_a_stake_above_the_players_limits_of_the_bet_never_reaches_the_statement(settings):
    settings.SPORTSBOOK_LIMITS = {**settings.SPORTSBOOK_LIMITS, "max_payout": 30}
    a_match()
    player = funded_player(10_000)

    captured, refused = place(player, stake=1_000)

    assert ways(captured) == ["function"]
    assert refusal_of(refused)[0].__name__ == "StakeTooHigh"
    assert refused.details == {"max_stake": 968}  # 968 x 3.10 = 30.00


def test_a_leg_that_moved_after_the_read_is_judged_as_it_is_now():
    seq = a_match()
    player = funded_player(10_000)
    statement_of = intake.statement_of

    def price_moves_first(slip):
        send(market(seq, prices=("2.90", "3.20", "2.40")))
        return statement_of(slip)

    with mock.patch.object(intake, "statement_of", side_effect=price_moves_first):
        captured, refused = place(player)

    # The statement finds the leg moved, the participant's write too; read again, it is refused.
    assert ways(captured) == ["statement", "function", "function"]
    assert refusal_of(refused)[0].__name__ == "PriceChanged"
    assert refused.details == {"price": "2.90", "selection_id": "mk-1-home"}
    assert (wallet_selectors.get_wallet_state(player.pk).balance, Bet.objects.exists()) == (10_000, False)
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_an_exposure_row_missing_at_the_statement_is_opened_and_the_slip_placed():
    a_match()
    first, second = funded_player(10_000), funded_player(10_000)
    place(first)
    statement_of = intake.statement_of

    def platform_row_gone(slip):
        if mocked.call_count == 1:
            Exposure.objects.filter(scope="platform").delete()
        return statement_of(slip)

    with mock.patch.object(intake, "statement_of", side_effect=platform_row_gone) as mocked:
        captured, placed = place(second)

    assert ways(captured) == ["statement", "function", "statement"]
    assert placed.bet.status == BetStatus.ACCEPTED
    assert Exposure.objects.get(scope="platform").amount == 2_100  # opened afresh by this bet


def test_the_bet_that_crosses_a_markets_throttle_is_recorded_by_the_participant(settings):
    settings.SPORTSBOOK_THROTTLE = {"window_s": 60.0, "limit": 50, "cap_share": "0"}
    a_match()
    player = funded_player(10_000)
    crossings = OutboxEvent.objects.filter(name=signals.markets_throttled.name)

    below = [ways(place(player, key=key)[0]) for key in ("a", "b")]
    captured, placed = place(player, key="c")  # 4,200 <= 5,000 < 6,300

    assert below == [["statement"], ["statement"]]
    assert ways(captured) == ["statement", "function"]
    assert placed.bet.status == BetStatus.ACCEPTED
    assert [event.payload["markets"] for event in crossings] == [[Market.objects.get(market_id="mk-1").pk]]


def test_the_statement_moves_the_throttles_window_as_the_throttle_does(settings):
    settings.SPORTSBOOK_THROTTLE = {"window_s": 60.0, "limit": 1_000_000, "cap_share": "0"}
    a_match()
    player = funded_player(100_000)
    start = dt.datetime(2026, 6, 11, 18, 0, tzinfo=dt.UTC)
    expected = Window(None)
    for n, offset in enumerate([0, 0.000001, 59.999999, 60, 60.5, 119.999999, 240.123456, 300.123455, 420.123456]):
        at = start + dt.timedelta(seconds=offset)
        with time_machine.travel(at, tick=False):
            captured, _ = place(player, key=f"k{n}", stake=100)
        expected, crossed = take(expected, 210, at, 100_000_000)
        stored = Exposure.objects.values_list("window_started_at", "window_amount", "previous_window_amount").get(
            scope="market"
        )
        assert (ways(captured), crossed) == (["statement"], False)
        assert stored == (expected.started_at, expected.amount, expected.previous), offset


def test_a_second_participant_acting_on_slips_keeps_the_participant_in_python(monkeypatch):
    a_match()
    player = funded_player(10_000)
    stake = extensions.STAKE
    for name in ("_registered", "participants", "_quiet"):
        monkeypatch.setattr(stake, name, copy.copy(getattr(stake, name)))  # restored after the test
    other = mock.Mock(return_value=None)
    stake.register(other, order=400, quiet=extensions.Quiet.NO_DETAIL)

    captured, placed = place(player)

    assert ways(captured) == ["function"]
    assert placed.bet.status == BetStatus.ACCEPTED
    assert other.call_count == 1


def test_a_suspended_market_is_refused_after_the_function_wrote_the_stake_and_nothing_stays():
    a_match()
    send(suspend(10, event_id="ev-1"))
    player = funded_player(10_000)

    captured, refused = place(player)

    assert ways(captured) == ["function"]
    assert refusal_of(refused)[0].__name__ == "MarketSuspended"
    assert wallet_selectors.get_wallet_state(player.pk).balance == 10_000
    assert Transaction.objects.filter(player=player, kind="bet").exists() is False
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_a_stake_the_player_cannot_afford_is_the_python_paths_whose_slip_refusal_comes_first():
    # The Python path judges the slip before the balance: a suspended market's refusal, not
    # INSUFFICIENT_FUNDS, on both paths.
    a_match()
    send(suspend(10, event_id="ev-1"))
    first, second = funded_player(500), funded_player(500)

    through, refused = place(first, stake=1_000)
    _, refused_too = on_the_python_path(second, stake=1_000)

    assert ways(through) == ["function", "python"]
    assert refusal_of(refused) == refusal_of(refused_too)
    assert refusal_of(refused)[0].__name__ == "MarketSuspended"


def test_a_stake_above_the_balance_on_an_open_market_is_refused_by_the_wallet():
    a_match()
    player = funded_player(500)
    ledger = Transaction.objects.count()

    captured, refused = place(player, stake=1_000)

    assert ways(captured) == ["statement", "python"]
    assert refusal_of(refused)[0].__name__ == "InsufficientFunds"
    assert refused.extra == {"balance": 500, "currency": "EUR"}
    assert (Transaction.objects.count(), Bet.objects.exists()) == (ledger, False)


def test_a_stake_held_for_an_in_play_delay_takes_the_python_path():
    seq = a_match(delay=5)
    send(live(seq))
    player = funded_player(10_000)

    captured, placed = place(player)

    assert ways(captured) == ["python"]
    assert placed.bet.status == BetStatus.PENDING
    assert wallet_selectors.get_wallet_state(player.pk).balance == 9_000


def test_a_player_a_participant_acts_on_takes_the_python_path():
    a_match()
    player = funded_player(10_000)
    player.needs_compliance_checks = True
    player.save(update_fields=["needs_compliance_checks"])

    captured, placed = place(player)

    assert ways(captured) == ["statement", "python"]  # declined by the function, then taken as before
    assert placed.bet.status == BetStatus.ACCEPTED
    captured, _ = place(player, key="key-2")
    assert ways(captured) == ["python"]  # remembered: straight to the Python path
