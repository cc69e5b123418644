"""Bet intake under the circuit breakers (docs/sportsbook.md, "Circuit breakers"): an in-play leg is
refused `MARKET_SUSPENDED` while `pre_match_only`, `suspend_in_play` or `cached_prices` is on, with
nothing moved; a pre-match leg is taken under every one of them; a pending bet whose delay runs out
while one is on is rejected and its stake comes back."""

import pytest
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.sportsbook import breakers, selectors, services
from apps.sportsbook.models import Bet, BetLeg, Breaker
from apps.sportsbook.tests.factories import BETS, a_match, event, live, market, send, slip
from apps.wallet import audit
from apps.wallet import selectors as wallet_selectors
from apps.wallet.models import Entry, Transaction

pytestmark = pytest.mark.django_db

BREAKERS = ("pre_match_only", "suspend_in_play", "cached_prices")


@pytest.fixture
def two_events():
    """ev-1 before kick-off (market mk-1) and ev-2 in play without a delay (market mk-2): each
    market at version 1."""
    seq = a_match(markets=("mk-1",))
    send(event(seq, "ev-2", in_play_delay_s=0), market(seq + 1, "mk-2", "ev-2"), live(seq + 2, "ev-2"))


@pytest.fixture
def finance():
    """Two finance staff members: one asks for a breaker's change, the other approves it."""
    return make_staff(StaffRole.FINANCE), make_staff(StaffRole.FINANCE)


def place(api, body: dict, key: str = "key-1"):
    return api.post(BETS, body, format="json", headers={"Idempotency-Key": key})


def error(response) -> dict:
    return response.json()["error"]


def ledger() -> tuple[int, int]:
    return Transaction.objects.count(), Entry.objects.count()


def assert_nothing_moved(player, before_ledger) -> None:
    assert ledger() == before_ledger
    assert wallet_selectors.get_wallet_state(player.pk).balance == 10_000
    assert Bet.objects.exists() is False
    assert BetLeg.objects.exists() is False
    assert selectors.stored_exposure() == {}
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


@pytest.mark.parametrize("breaker", BREAKERS)
def test_an_in_play_leg_is_refused_as_suspended_and_nothing_moves(api, player, two_events, breaker):
    breakers.trip(breaker, "test")
    before = ledger()

    # Under suspend_in_play the trip has moved the market to version 2 (suspended): the slip
    # names the version the player saw last.
    response = place(api, slip(("mk-2-home", "3.10", 2 if breaker == "suspend_in_play" else 1)))

    assert (response.status_code, error(response)["code"]) == (409, "MARKET_SUSPENDED")
    assert_nothing_moved(player, before)


@pytest.mark.parametrize("breaker", BREAKERS)
def test_a_pre_match_leg_is_taken_under_every_breaker(api, player, two_events, breaker):
    breakers.trip(breaker, "test")

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=1_000))

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "accepted"
    assert wallet_selectors.get_wallet_state(player.pk).balance == 9_000


def test_suspend_in_play_refuses_an_in_play_leg_before_its_market_is_suspended(api, player, two_events):
    # The moment between the breaker's row turning on and its suspension reaching a market (the
    # trip's own transaction suspends them; a feed's batch racing it is held back by the feed's
    # lock): the breaker alone refuses the leg.
    Breaker.objects.filter(name="suspend_in_play").update(is_on=True, changed_at=timezone.now(), reason="test")
    before = ledger()

    response = place(api, slip(("mk-2-home", "3.10", 1)))

    assert (response.status_code, error(response)["code"]) == (409, "MARKET_SUSPENDED")
    assert_nothing_moved(player, before)


def test_an_accumulator_with_one_in_play_leg_is_refused_on_that_leg_under_cached_prices(api, player, two_events):
    breakers.trip("cached_prices", "test")
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1), ("mk-2-home", "3.10", 1)))

    assert (response.status_code, error(response)["code"]) == (409, "MARKET_SUSPENDED")
    assert error(response)["selection_id"] == "mk-2-home"
    assert_nothing_moved(player, before)


def test_an_in_play_leg_is_taken_again_once_the_breaker_is_off(api, player, two_events, finance):
    asker, approver = finance
    breakers.trip("pre_match_only", "test")
    refused = place(api, slip(("mk-2-home", "3.10", 1)))
    request = breakers.request_change(breaker="pre_match_only", turn_on=False, reason="feeds back", acting_user=asker)
    breakers.approve_change(request_id=request.pk, acting_user=approver)

    taken = place(api, slip(("mk-2-home", "3.10", 1)), key="key-2")

    assert error(refused)["code"] == "MARKET_SUSPENDED"
    assert taken.status_code == 201, taken.content


def test_a_pending_bet_whose_delay_runs_out_under_pre_match_only_is_rejected_and_its_stake_comes_back(api, player):
    seq = a_match(delay=5)
    send(live(seq))
    place(api, slip(("mk-1-home", "3.10", 1), stake=1_000))
    bet = Bet.objects.get()
    breakers.trip("pre_match_only", "test")

    assert services.release_due_bets(now=bet.release_at) == 1

    bet.refresh_from_db()
    assert (bet.status, bet.reject_reason) == ("rejected", "MARKET_SUSPENDED")
    assert wallet_selectors.get_wallet_state(player.pk).balance == 10_000
    assert selectors.stored_exposure() == {}
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}
