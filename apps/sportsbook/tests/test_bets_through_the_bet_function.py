"""A free player's bet slip through the wallet's bet function (apps/wallet/fast_bet.py,
`_with_detail`): the stake, the bet, its legs and its exposure exactly as the Python path writes
them, in one transaction; a refusal of the slip after the function has written the stake moves
nothing and carries the balance from before; a stake the player cannot afford, a held stake and a
player a participant acts on are the Python path's, and answered as it answers them.

Every other test of the sportsbook's bets takes the function too, for their players are free."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.common.errors import PamError
from apps.common.models import OutboxEvent
from apps.sportsbook import selectors, services
from apps.sportsbook.choices import BetStatus
from apps.sportsbook.intake import LegRequest
from apps.sportsbook.models import Bet, Selection
from apps.sportsbook.tests.factories import a_match, live, send, suspend
from apps.wallet import audit, fast_bet
from apps.wallet import selectors as wallet_selectors
from apps.wallet.models import Account, Entry, Transaction
from apps.wallet.tests.factories import bet, bet_paths, funded_player

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


def test_a_free_players_slip_writes_through_the_function_what_the_python_path_writes():
    a_match()
    first, second = funded_player(10_000), funded_player(10_000)

    through, placed = place(first)
    python, placed_too = on_the_python_path(second)

    assert bet_paths(through) == (True, False)
    assert bet_paths(python) == (False, True)
    assert written(Bet.objects.get(public_id=placed.bet.public_id)) == written(
        Bet.objects.get(public_id=placed_too.bet.public_id)
    )
    assert placed.bet.status == BetStatus.ACCEPTED
    assert wallet_selectors.get_wallet_state(first.pk).balance == 9_000
    home = Selection.objects.get(selection_id="mk-1-home")
    assert selectors.stored_exposure()[("selection", home.pk, "EUR")] == 2 * 2_100
    assert selectors.recompute_exposure() == selectors.stored_exposure()
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_a_replay_of_the_key_through_the_function_answers_the_first_bet_and_moves_nothing():
    a_match()
    player = funded_player(10_000)
    _, first = place(player)

    captured, again = place(player)

    assert bet_paths(captured) == (True, False)
    assert again.replayed is True
    assert again.bet.public_id == first.bet.public_id
    assert Bet.objects.count() == 1
    assert Transaction.objects.filter(player=player, kind="bet").count() == 1
    assert wallet_selectors.get_wallet_state(player.pk).balance == 9_000


def test_a_cap_refusing_the_slip_after_the_function_rolls_the_stake_back_and_carries_the_balance_before_it():
    a_match()
    home = Selection.objects.get(selection_id="mk-1-home").pk
    services.set_exposure_cap(scope="selection", target_id=home, currency="EUR", cap=5_000, reason="hot",
                              acting_user=None)  # fmt: skip
    first, second = funded_player(10_000), funded_player(10_000)
    events = OutboxEvent.objects.count()

    through, refused = place(first, stake=2_400)
    _, refused_too = on_the_python_path(second, stake=2_400)

    assert bet_paths(through) == (True, False)
    assert refusal_of(refused) == refusal_of(refused_too)
    assert refused.extra == {"balance": 10_000, "currency": "EUR"}
    assert refused.details == {"max_stake": 2_381}
    assert wallet_selectors.get_wallet_state(first.pk).balance == 10_000
    assert Transaction.objects.filter(player=first, kind="bet").exists() is False
    assert Bet.objects.exists() is False
    assert OutboxEvent.objects.count() == events
    assert selectors.recompute_exposure() == selectors.stored_exposure()
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_a_suspended_market_is_refused_after_the_function_wrote_the_stake_and_nothing_stays():
    a_match()
    send(suspend(10, event_id="ev-1"))
    player = funded_player(10_000)

    captured, refused = place(player)

    assert bet_paths(captured) == (True, False)
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

    assert bet_paths(through) == (True, True)
    assert refusal_of(refused) == refusal_of(refused_too)
    assert refusal_of(refused)[0].__name__ == "MarketSuspended"


def test_a_stake_above_the_balance_on_an_open_market_is_refused_by_the_wallet():
    a_match()
    player = funded_player(500)
    ledger = Transaction.objects.count()

    captured, refused = place(player, stake=1_000)

    assert bet_paths(captured) == (True, True)
    assert refusal_of(refused)[0].__name__ == "InsufficientFunds"
    assert refused.extra == {"balance": 500, "currency": "EUR"}
    assert (Transaction.objects.count(), Bet.objects.exists()) == (ledger, False)


def test_a_stake_held_for_an_in_play_delay_takes_the_python_path():
    seq = a_match(delay=5)
    send(live(seq))
    player = funded_player(10_000)

    captured, placed = place(player)

    assert bet_paths(captured) == (False, True)
    assert placed.bet.status == BetStatus.PENDING
    assert wallet_selectors.get_wallet_state(player.pk).balance == 9_000


def test_a_player_a_participant_acts_on_takes_the_python_path():
    a_match()
    player = funded_player(10_000)
    player.needs_compliance_checks = True
    player.save(update_fields=["needs_compliance_checks"])

    captured, placed = place(player)

    assert bet_paths(captured) == (True, True)  # declined by the function, then taken as before
    assert placed.bet.status == BetStatus.ACCEPTED
    captured, _ = place(player, key="key-2")
    assert bet_paths(captured) == (False, True)  # remembered: straight to the Python path
