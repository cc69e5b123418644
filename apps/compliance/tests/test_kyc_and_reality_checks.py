"""KYC gating (the profile's cumulative-deposit threshold, withdrawals need verification) and
reality checks (due one interval after login, sent once per due time, from the ledger; play
pauses until the player acknowledges)."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.accounts.choices import KycStatus
from apps.accounts.models import Currency, Player
from apps.compliance import gate, selectors, services, sockets
from apps.compliance.errors import KycRequired, LimitReached, RealityCheckPending
from apps.compliance.models import PlayerProtection
from apps.compliance.tests.factories import START, bet, deposit, fresh, funded_player, win, withdraw
from apps.wallet.tests.factories import ledger_rows, wallet

pytestmark = pytest.mark.django_db

THRESHOLD = 200_000  # the seeded EUR 2,000


def test_the_deposit_that_reaches_the_threshold_passes_then_deposits_and_bets_wait_for_kyc(clock):
    player = funded_player(0)
    deposit(player, THRESHOLD - 1)
    deposit(player, 1)  # reaches the threshold: accepted, and the player is held

    before = ledger_rows()
    with pytest.raises(KycRequired):
        deposit(fresh(player), 1)
    with pytest.raises(KycRequired):
        bet(fresh(player), 100)
    assert ledger_rows() == before
    assert fresh(player).needs_compliance_checks is True


def test_a_verified_player_deposits_past_the_threshold(clock):
    player = funded_player(0)
    deposit(player, THRESHOLD)
    Player.objects.filter(pk=player.pk).update(kyc_status=KycStatus.VERIFIED)

    deposit(fresh(player), 50_000)
    bet(fresh(player), 100)


def test_the_euro_threshold_is_converted_to_the_players_currency_at_its_reference_rate(clock):
    # The seeded EUR 2,000 at the seeded reference rates (units one euro buys): GBP 0.85, SEK 11.
    for currency, threshold in (("GBP", 170_000), ("SEK", 2_200_000)):
        player = funded_player(0, currency=currency)
        assert selectors.kyc_threshold(player) == threshold
        deposit(player, threshold - 1)
        deposit(fresh(player), 1)  # reaches it: accepted, then held
        with pytest.raises(KycRequired):
            deposit(fresh(player), 1)


def test_a_threshold_in_a_currency_without_a_rate_is_the_safe_side(clock):
    player = funded_player(0, currency="JPY")  # the operator has not set JPY's reference rate
    assert selectors.kyc_threshold(player) == 0
    with pytest.raises(KycRequired):
        deposit(player, 1)  # an unverified player deposits nothing until verified

    Currency.objects.filter(code="JPY").update(units_per_eur=Decimal("165"))
    assert selectors.kyc_threshold(fresh(player)) == 330_000  # 2,000 euros in yen (exponent 0)
    deposit(fresh(player), 1)


def test_an_unverified_player_cannot_withdraw():
    player = funded_player(1_000)
    with pytest.raises(KycRequired):
        gate.assert_may_withdraw(player=player, amount=100)
    with pytest.raises(KycRequired) as refused:
        withdraw(player, 100)  # through the wallet: refused inside its money transaction
    assert refused.value.extra == {"balance": 1_000, "currency": "EUR"}
    assert wallet(player)[0] == 1_000

    Player.objects.filter(pk=player.pk).update(kyc_status=KycStatus.VERIFIED)
    withdraw(player, 100)
    assert wallet(player)[0] == 900


def test_login_makes_the_first_reality_check_due_one_interval_later(clock):
    player = funded_player(0)
    services.start_play_session(player=player)
    assert fresh(player).reality_check_due_at == START + dt.timedelta(minutes=60)  # UKGC's default

    services.set_reality_check_interval(player=player, minutes=20)
    assert fresh(player).reality_check_due_at == START + dt.timedelta(minutes=20)


def test_the_first_bet_past_the_due_time_sends_one_reality_check(clock, django_capture_on_commit_callbacks):
    player = funded_player(10_000)
    services.start_play_session(player=player)
    services.set_reality_check_interval(player=player, minutes=30)
    bet(fresh(player), 1_000)
    win(player, 300)

    clock.move_to(START + dt.timedelta(minutes=30) - dt.timedelta(microseconds=1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        bet(fresh(player), 100)
    assert len(callbacks) == 1  # the wallet's own event only

    clock.move_to(START + dt.timedelta(minutes=31))
    with django_capture_on_commit_callbacks(execute=True):
        bet(fresh(player), 100)
    protection = PlayerProtection.objects.get(player=player)
    assert protection.last_reality_check_at == START + dt.timedelta(minutes=31)
    assert fresh(player).reality_check_due_at == START + dt.timedelta(minutes=61)
    assert selectors.session_result(player.pk, START) == -900

    # A second delivery for the same due time (a stale copy of the row, or the outbox) sends nothing.
    assert services.send_due_reality_check(player_id=player.pk, due_at=START + dt.timedelta(minutes=30)) is False


def test_a_sockets_timer_that_ends_before_the_due_time_sends_nothing_yet(clock):
    player = funded_player(10_000)
    services.start_play_session(player=player)
    services.set_reality_check_interval(player=player, minutes=30)
    due = fresh(player).reality_check_due_at
    assert due == START + dt.timedelta(minutes=30)

    clock.move_to(due - dt.timedelta(microseconds=72))
    assert sockets.reality_check_when_due(player.pk, due) == due  # armed again for the rest
    assert PlayerProtection.objects.get(player=player).last_reality_check_at is None

    clock.move_to(due)
    assert sockets.reality_check_when_due(player.pk, due) == due + dt.timedelta(minutes=30)
    assert PlayerProtection.objects.get(player=player).last_reality_check_at == due


def test_the_player_acknowledges_a_reality_check(clock):
    player = funded_player(0)
    services.acknowledge_reality_check(player=player)
    assert PlayerProtection.objects.get(player=player).reality_check_acknowledged_at == START
    assert fresh(player).needs_compliance_checks is False  # nothing was awaiting it


def _sent_reality_check(clock, django_capture_on_commit_callbacks):
    """A player whose first reality check (30 minutes) was sent by the bet that found it due."""
    player = funded_player(10_000)
    services.start_play_session(player=player)
    services.set_reality_check_interval(player=player, minutes=30)
    clock.move_to(START + dt.timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        bet(fresh(player), 100)  # the bet that finds the check due is taken; the notice follows it
    assert PlayerProtection.objects.get(player=player).reality_check_awaits_ack
    return player


def test_play_pauses_at_a_reality_check_until_the_player_acknowledges(clock, django_capture_on_commit_callbacks):
    player = _sent_reality_check(clock, django_capture_on_commit_callbacks)
    assert fresh(player).needs_compliance_checks is True

    before = ledger_rows()
    clock.move_to(START + dt.timedelta(minutes=45))
    with pytest.raises(RealityCheckPending) as refused:
        bet(fresh(player), 100)
    assert isinstance(refused.value, LimitReached)  # LIMIT_REACHED on the wallet API
    assert refused.value.code == "LIMIT_REACHED"
    assert refused.value.details["reality_check"]["sent_at"] == "2026-03-02T12:30:00Z"
    assert ledger_rows() == before
    win(player, 50)  # what is owed is still paid
    deposit(fresh(player), 1_000)  # a reality check pauses play, not the cashier

    services.acknowledge_reality_check(player=fresh(player))
    assert fresh(player).needs_compliance_checks is False
    bet(fresh(player), 100)
    assert selectors.get_reality_check(player).awaiting_acknowledgement is False


def test_the_next_login_ends_the_pause_and_the_next_check_pauses_again(clock, django_capture_on_commit_callbacks):
    player = _sent_reality_check(clock, django_capture_on_commit_callbacks)
    clock.move_to(START + dt.timedelta(minutes=40))
    services.start_play_session(player=fresh(player))  # logged out and in again: a new session
    assert fresh(player).needs_compliance_checks is False
    bet(fresh(player), 100)

    clock.move_to(START + dt.timedelta(minutes=70))  # 30 minutes into the new session
    with django_capture_on_commit_callbacks(execute=True):
        bet(fresh(player), 100)
    with pytest.raises(RealityCheckPending):
        bet(fresh(player), 100)
    view = selectors.get_reality_check(player)
    assert view.awaiting_acknowledgement is True
    assert view.last_sent_at == START + dt.timedelta(minutes=70)
    assert view.next_due_at == START + dt.timedelta(minutes=100)


def test_an_acknowledgement_before_the_check_does_not_skip_it(clock, django_capture_on_commit_callbacks):
    player = funded_player(10_000)
    services.start_play_session(player=player)
    services.set_reality_check_interval(player=player, minutes=30)
    services.acknowledge_reality_check(player=fresh(player))  # early: acknowledges nothing yet
    clock.move_to(START + dt.timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        bet(fresh(player), 100)
    with pytest.raises(RealityCheckPending):
        bet(fresh(player), 100)
