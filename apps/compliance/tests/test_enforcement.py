"""Limits enforced inside the wallet's money transaction: a bet or deposit that would cross one is
refused with LimitReached and moves nothing; overlapping limits, rolling windows at their edges."""

import datetime as dt

import pytest

from apps.compliance.errors import LimitReached
from apps.compliance.tests.factories import START, a_ref, bet, deposit, fresh, funded_player, limit, win
from apps.wallet.tests.factories import ledger_rows, rollback, wallet

pytestmark = pytest.mark.django_db

MICROSECOND = dt.timedelta(microseconds=1)


def refused(call, *args):
    """Assert the call raises LimitReached and writes nothing to the ledger."""
    before = ledger_rows()
    with pytest.raises(LimitReached) as refusal:
        call(*args)
    assert ledger_rows() == before
    return refusal.value


def test_a_deposit_up_to_the_limit_passes_and_one_more_unit_is_refused(clock):
    player = funded_player(0)
    limit(player, "deposit", "24h", 10_000)
    deposit(player, 6_000)
    deposit(player, 4_000)

    error = refused(deposit, fresh(player), 1)
    assert error.details["limit"] == {"kind": "deposit", "period": "24h", "amount": 10_000, "remaining": 0}
    assert wallet(player)[0] == 10_000


def test_the_rolling_window_lets_a_deposit_out_exactly_one_period_later(clock):
    player = funded_player(0)
    limit(player, "deposit", "24h", 10_000)
    deposit(player, 10_000)

    clock.move_to(START + dt.timedelta(hours=24) - MICROSECOND)
    refused(deposit, player, 1)
    clock.move_to(START + dt.timedelta(hours=24))
    deposit(player, 10_000)


def test_the_lowest_of_overlapping_limits_applies(clock):
    player = funded_player(0)
    limit(player, "deposit", "24h", 10_000)
    limit(player, "deposit", "7d", 6_000)
    deposit(player, 5_000)

    error = refused(deposit, player, 1_001)
    assert error.details["limit"]["period"] == "7d"
    # Six days later the 24-hour window is empty but the 7-day one is not.
    clock.move_to(START + dt.timedelta(days=6))
    refused(deposit, player, 1_001)
    clock.move_to(START + dt.timedelta(days=7))
    deposit(player, 6_000)


def test_a_wager_limit_counts_stakes_less_rollbacks(clock):
    player = funded_player(100_000)
    limit(player, "wager", "24h", 1_000)
    ref = a_ref()
    bet(player, 600, ref)
    refused(bet, player, 401)
    rollback(player, ref.external_id)

    bet(player, 1_000)
    refused(bet, player, 1)


def test_a_loss_limit_is_net_of_wins(clock):
    player = funded_player(100_000)
    limit(player, "loss", "7d", 1_000)
    bet(player, 800)
    win(player, 500)  # net loss 300: 700 may still be staked (and lost)

    bet(player, 700)
    error = refused(bet, player, 1)
    assert error.details["limit"]["kind"] == "loss"
    win(player, 5_000)  # owed money is always paid, and a net win leaves the whole limit
    bet(player, 1_000)


def test_wins_are_paid_over_any_limit(clock):
    player = funded_player(1_000)
    limit(player, "loss", "24h", 0)

    refused(bet, player, 1)
    win(player, 100)
    assert wallet(player)[0] == 1_100


def test_the_session_time_limit_refuses_bets_once_the_session_is_that_long(clock):
    from apps.compliance import services

    player = funded_player(10_000)
    services.start_play_session(player=player)
    limit(player, "session", None, 60)

    clock.move_to(START + dt.timedelta(minutes=60) - MICROSECOND)
    bet(player, 100)
    clock.move_to(START + dt.timedelta(minutes=60))
    refused(bet, player, 100)
    services.start_play_session(player=player)  # a new login is a new session
    bet(player, 100)


def test_an_increase_is_enforced_from_the_end_of_its_cooling_off(clock):
    from apps.accounts.tests.factories import make_brand
    from apps.compliance.models import JurisdictionProfile

    brand = make_brand("malta", "Malta Casino")
    brand.jurisdiction = JurisdictionProfile.objects.get(code="MGA")
    brand.save()
    player = funded_player(0, brand="malta")
    limit(player, "deposit", "30d", 1_000)
    limit(player, "deposit", "30d", 5_000)
    deposit(player, 1_000)

    clock.move_to(START + dt.timedelta(hours=24) - MICROSECOND)
    refused(deposit, player, 1)
    clock.move_to(START + dt.timedelta(hours=24))
    deposit(player, 4_000)
    refused(deposit, player, 1)


def test_a_limit_removed_by_decrease_to_nothing_still_binds_until_the_removal_applies(clock):
    player = funded_player(10_000)
    limit(player, "wager", "24h", 100)
    limit(player, "wager", "24h", None)

    refused(bet, player, 101)
    clock.move_to(START + dt.timedelta(hours=25))
    refused(bet, player, 101)  # UKGC: a removal also needs the player's confirmation
    from apps.compliance import services

    services.confirm_limit(player=player, kind="wager", period="24h")
    bet(player, 5_000)
    assert fresh(player).needs_compliance_checks is False
