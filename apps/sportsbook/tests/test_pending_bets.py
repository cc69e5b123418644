"""In-play bets (contracts/sportsbook.md, "Players"): a bet on a live event is `pending` while
its event's in-play delay runs, its stake taken at once into the pending-bets account; then it is
re-checked against its markets as they are, and accepted (the stake on to the house) or rejected
with its reason (the stake back to the player, its exposure taken off). The release is idempotent,
the sweep releases only what is due, and the player's GET shows the outcome."""

import datetime as dt

import pytest
import time_machine
from django.db.models import Sum

from apps.sportsbook import selectors, services
from apps.sportsbook.models import Bet
from apps.sportsbook.tests.factories import BETS, a_match, live, market, resume, send, slip, suspend
from apps.wallet import audit
from apps.wallet import errors as wallet_errors
from apps.wallet import selectors as wallet_selectors
from apps.wallet import services as wallet_services
from apps.wallet.models import Entry, Transaction
from apps.wallet.tests.factories import grant_bonus

pytestmark = pytest.mark.django_db

DELAY = 5


@pytest.fixture
def in_play():
    """An event in play with a 5-second delay; the next free seq."""
    seq = a_match(delay=DELAY)
    send(live(seq))
    return seq + 1


def place(api, body: dict, key: str = "key-1"):
    return api.post(BETS, body, format="json", headers={"Idempotency-Key": key})


def held(code: str) -> int:
    """A system account's balance: the sum of its entries."""
    return Entry.objects.filter(account__code=code).aggregate(total=Sum("amount"))["total"] or 0


def wallet(player) -> tuple[int, int]:
    state = wallet_selectors.get_wallet_state(player.pk)
    return state.balance, state.version


def clean_audit() -> bool:
    return audit.run_audit() == {name: [] for name in audit.CHECKS}


def due(bet: Bet) -> dt.datetime:
    return bet.release_at


def test_a_bet_in_play_is_pending_with_its_stake_held_and_its_exposure_counted(api, player, in_play):
    response = place(api, slip(("mk-1-home", "3.10", 1), stake=1_000))

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    bet = Bet.objects.get()
    assert bet.release_at == bet.placed_at + dt.timedelta(seconds=DELAY)
    assert wallet(player) == (9_000, 2)  # the stake left the playable balance at once
    assert (held("pending_bets"), held("house")) == (1_000, 0)
    assert selectors.stored_exposure()[("platform", 0, "EUR")] == 2_100
    assert clean_audit()


def test_a_pending_bet_is_not_released_before_its_delay_runs_out(api, player, in_play):
    place(api, slip(("mk-1-home", "3.10", 1)))
    bet = Bet.objects.get()
    ledger = Transaction.objects.count()

    assert services.release_due_bets(now=due(bet) - dt.timedelta(milliseconds=1)) == 0
    assert services.release_pending_bet(bet_id=bet.pk, now=due(bet) - dt.timedelta(milliseconds=1)).status == "pending"
    assert Transaction.objects.count() == ledger


def test_after_its_delay_an_unchanged_market_accepts_it_and_the_stake_moves_on_to_the_house(api, player, in_play):
    place(api, slip(("mk-1-home", "3.10", 1), stake=1_000))
    bet = Bet.objects.get()

    assert services.release_due_bets(now=due(bet)) == 1

    bet.refresh_from_db()
    assert (bet.status, bet.reject_reason, bet.decided_at) == ("accepted", "", due(bet))
    assert wallet(player) == (9_000, 2)  # nothing moved for the player: no new version, no frame
    assert (held("pending_bets"), held("house")) == (0, 1_000)
    accepted = Transaction.objects.get(kind="bet_accepted")
    assert (accepted.player_id, accepted.amount, accepted.round_id) == (player.pk, 0, bet.public_id)
    assert selectors.stored_exposure()[("platform", 0, "EUR")] == 2_100
    assert clean_audit()


def test_a_better_price_after_the_delay_still_accepts_it_at_its_own_price(api, player, in_play):
    place(api, slip(("mk-1-home", "3.10", 1), stake=1_000))
    send(market(in_play, prices=("3.50", "3.20", "2.40")))
    bet = Bet.objects.get()

    services.release_due_bets(now=due(bet))

    bet.refresh_from_db()
    assert (bet.status, bet.potential_payout) == ("accepted", 3_100)


@pytest.mark.parametrize(
    ("during_the_delay", "reason"),
    [
        (lambda seq: [suspend(seq, event_id="ev-1")], "MARKET_SUSPENDED"),
        # A goal and the market back before the delay ends: suspended since the version seen.
        (lambda seq: [suspend(seq, event_id="ev-1"), resume(seq + 1, event_id="ev-1")], "MARKET_SUSPENDED"),
        (lambda seq: [market(seq, prices=("2.90", "3.20", "2.40"))], "PRICE_CHANGED"),
    ],
)
def test_after_its_delay_a_changed_market_rejects_it_and_the_stake_comes_back(
    api, player, in_play, during_the_delay, reason
):
    place(api, slip(("mk-1-home", "3.10", 1), stake=1_000, accept="any"))
    send(*during_the_delay(in_play))
    bet = Bet.objects.get()

    assert services.release_due_bets(now=due(bet)) == 1

    bet.refresh_from_db()
    assert (bet.status, bet.reject_reason) == ("rejected", reason)
    assert wallet(player) == (10_000, 3)
    assert (held("pending_bets"), held("house")) == (0, 0)
    refund = Transaction.objects.get(kind="rollback")
    assert (refund.reverses_id, refund.amount) == (bet.stake_transaction_id, 1_000)
    assert selectors.stored_exposure() == {}
    assert selectors.recompute_exposure() == {}
    assert clean_audit()


def test_releasing_twice_is_harmless(api, player, in_play):
    place(api, slip(("mk-1-home", "3.10", 1)))
    bet = Bet.objects.get()
    services.release_pending_bet(bet_id=bet.pk, now=due(bet))
    ledger = Transaction.objects.count()

    again = services.release_pending_bet(bet_id=bet.pk, now=due(bet) + dt.timedelta(seconds=1))

    assert (again.status, again.decided_at) == ("accepted", due(bet))
    assert Transaction.objects.count() == ledger
    assert services.release_due_bets(now=due(bet) + dt.timedelta(seconds=60)) == 0


def test_a_release_that_finds_the_money_released_the_other_way_keeps_that_outcome(api, player, in_play):
    # Two releases racing, the first deciding "accept" and committing before the second, which had
    # read a suspension: the wallet refuses the second's other decision, and nothing moves twice.
    place(api, slip(("mk-1-home", "3.10", 1)))
    bet = Bet.objects.get()
    services.release_pending_bet(bet_id=bet.pk, now=due(bet))
    Bet.objects.filter(pk=bet.pk).update(status="pending", decided_at=None)  # the second's stale view
    send(suspend(in_play, event_id="ev-1"))
    ledger = Transaction.objects.count()

    with pytest.raises(wallet_errors.DuplicateTransaction):
        wallet_services.release_held_bet(player_id=player.pk, currency="EUR", origin="sportsbook",
                                         held_external_id=bet.stake_transaction.external_id, accept=False)  # fmt: skip
    services.release_pending_bet(bet_id=bet.pk, now=due(bet))

    assert Transaction.objects.count() == ledger
    assert (held("pending_bets"), held("house")) == (0, 1_000)


def test_the_players_get_shows_the_outcome_once_the_delay_has_run_out(api, player, in_play):
    bet_id = place(api, slip(("mk-1-home", "3.10", 1))).json()["bet_id"]
    bet = Bet.objects.get()
    send(suspend(in_play, event_id="ev-1"))

    before = api.get(f"{BETS}/{bet_id}").json()
    with time_machine.travel(due(bet), tick=False):
        after = api.get(f"{BETS}/{bet_id}").json()

    assert (before["status"], before["reason"]) == ("pending", None)
    assert (after["status"], after["reason"]) == ("rejected", "MARKET_SUSPENDED")


def test_a_replay_of_a_pending_bets_key_answers_the_first_answer(api, player, in_play):
    first = place(api, slip(("mk-1-home", "3.10", 1)))
    bet = Bet.objects.get()
    services.release_due_bets(now=due(bet))

    again = place(api, slip(("mk-1-home", "3.10", 1)))

    assert (again.status_code, again.json()) == (201, first.json())
    assert again.json()["status"] == "pending"


def test_a_live_event_without_a_delay_takes_the_bet_at_once(api, player):
    seq = a_match(delay=0)
    send(live(seq))

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=1_000))

    assert response.json()["status"] == "accepted"
    assert (held("pending_bets"), held("house")) == (0, 1_000)
    assert Bet.objects.get().release_at is None


def test_a_pending_bet_staked_with_bonus_money_gets_it_back_where_it_came_from(api, player, in_play):
    grant_bonus(player, 5_000)
    place(api, slip(("mk-1-home", "3.10", 1), stake=12_000))
    send(suspend(in_play, event_id="ev-1"))
    bet = Bet.objects.get()

    services.release_due_bets(now=due(bet))

    state = wallet_selectors.get_wallet_state(player.pk)
    assert (state.cash, state.bonus) == (10_000, 5_000)
    assert clean_audit()


def test_an_event_that_goes_in_play_during_the_placement_holds_the_bet(api, player, monkeypatch):
    # The service looks at the events before the money transaction; the participant looks again
    # under the lock. The feed's `live` committing between the two places the slip once more, held.
    seq = a_match(delay=DELAY)
    opened = services.locks.open_exposure

    def open_then_kick_off(currency, keys):
        opened(currency, keys)
        monkeypatch.setattr(services.locks, "open_exposure", opened)
        send(live(seq))

    monkeypatch.setattr(services.locks, "open_exposure", open_then_kick_off)

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=1_000))

    assert response.json()["status"] == "pending"
    assert (held("pending_bets"), held("house")) == (1_000, 0)
    assert Transaction.objects.filter(kind="bet").count() == 1
