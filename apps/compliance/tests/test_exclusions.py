"""Time-outs and self-exclusions: at once, their exact lengths, never lifted early by anyone,
bets and deposits refused while withdrawals still work, sessions ended, and the return."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from apps.accounts.choices import KycStatus
from apps.accounts.models import AuthToken, Player
from apps.accounts.services import issue_token
from apps.compliance import errors, selectors, services
from apps.compliance.errors import PlayerExcluded
from apps.compliance.models import Exclusion
from apps.compliance.tests.factories import START, bet, deposit, fresh, funded_player, withdraw
from apps.wallet.tests.factories import ledger_rows, wallet, win

pytestmark = pytest.mark.django_db

MICROSECOND = dt.timedelta(microseconds=1)


def refused(call, *args):
    before = ledger_rows()
    with pytest.raises(PlayerExcluded):
        call(*args)
    assert ledger_rows() == before


@pytest.mark.parametrize("hours", [24, 1008])
def test_a_time_out_lasts_24_hours_to_6_weeks(clock, hours):
    exclusion = services.start_time_out(player=funded_player(0), hours=hours)

    assert (exclusion.starts_at, exclusion.ends_at) == (START, START + dt.timedelta(hours=hours))


@pytest.mark.parametrize("hours", [23, 1009, 0])
def test_a_time_out_outside_24_hours_to_6_weeks_is_refused(clock, hours):
    player = funded_player(0)
    with pytest.raises(errors.InvalidLimit):
        services.start_time_out(player=player, hours=hours)
    assert Exclusion.objects.exists() is False


@pytest.mark.parametrize(
    ("period", "ends_at"),
    [("6m", dt.datetime(2026, 9, 2, 12, tzinfo=dt.UTC)), ("1y", dt.datetime(2027, 3, 2, 12, tzinfo=dt.UTC)),
     ("5y", dt.datetime(2031, 3, 2, 12, tzinfo=dt.UTC))],
)  # fmt: skip
def test_a_self_exclusion_lasts_calendar_months_or_years(clock, period, ends_at):
    assert services.self_exclude(player=funded_player(0), period=period).ends_at == ends_at


def test_bets_and_deposits_are_refused_from_the_moment_of_the_time_out(clock):
    player = funded_player(10_000)
    services.start_time_out(player=player, hours=24)

    refused(bet, fresh(player), 100)
    refused(deposit, fresh(player), 100)


def test_withdrawals_and_wins_still_work_while_excluded(clock):
    player = funded_player(10_000)
    Player.objects.filter(pk=player.pk).update(kyc_status=KycStatus.VERIFIED)
    services.self_exclude(player=player, period="1y")

    withdraw(player, 4_000)
    win(player, 50)
    assert wallet(player)[0] == 6_050


def test_no_one_lifts_an_exclusion_early(clock):
    player = funded_player(10_000)
    services.start_time_out(player=player, hours=48)

    with pytest.raises(errors.AlreadyExcluded):
        services.start_time_out(player=player, hours=24)  # a shorter one does not replace it
    clock.move_to(START + dt.timedelta(hours=48) - MICROSECOND)
    with pytest.raises(errors.ExclusionNotEnded):
        services.request_return(player=player)
    refused(bet, player, 100)


def test_a_longer_exclusion_replaces_a_shorter_one(clock):
    player = funded_player(10_000)
    services.start_time_out(player=player, hours=24)
    services.self_exclude(player=player, period="6m")

    clock.move_to(START + dt.timedelta(days=30))
    refused(bet, player, 100)


def test_after_the_end_the_account_stays_closed_until_the_player_asks_and_24_hours_pass(clock):
    player = funded_player(10_000)
    services.start_time_out(player=player, hours=24)
    end = START + dt.timedelta(hours=24)

    clock.move_to(end + dt.timedelta(days=10))
    refused(bet, player, 100)  # ended, but the player has not asked to come back
    asked = end + dt.timedelta(days=10)
    services.request_return(player=player)
    services.request_return(player=player)  # asking again does not restart the cooling-off

    clock.move_to(asked + dt.timedelta(hours=24) - MICROSECOND)
    refused(bet, player, 100)
    assert selectors.is_excluded(player) is True
    clock.move_to(asked + dt.timedelta(hours=24))
    bet(player, 100)
    deposit(player, 100)
    assert selectors.is_excluded(player) is False


def test_asking_to_return_without_an_exclusion_is_refused(clock):
    with pytest.raises(errors.NotExcluded):
        services.request_return(player=funded_player(0))


def test_an_exclusion_ends_every_session_and_token_of_the_player(clock, django_capture_on_commit_callbacks):
    player = funded_player(0)
    client = Client()
    client.force_login(player.user)  # django.contrib.auth.login: user_logged_in records the session
    issue_token(player.user)
    issue_token(player.user)
    assert (Session.objects.count(), AuthToken.objects.filter(user=player.user).count()) == (1, 2)

    with django_capture_on_commit_callbacks(execute=True):
        services.self_exclude(player=player, period="6m")

    assert (Session.objects.count(), AuthToken.objects.filter(user=player.user).count()) == (0, 0)
    assert client.get("/api/player/v1/me").status_code == 401
