"""The slip's read with the player's token (intake.read_slip_of_token, one statement on
PostgreSQL): the player `accounts.get_token_player` finds and the SlipRead `intake.read_slip` reads
for them, or None for a token that is not a live player's, without a word about the legs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.models import AuthToken
from apps.accounts.selectors import get_token_player
from apps.accounts.services import issue_token, revoke_token
from apps.accounts.tests.factories import make_staff
from apps.sportsbook import breakers, errors, intake, services
from apps.sportsbook.intake import LegRequest
from apps.sportsbook.tests.factories import a_match
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db

HOME = LegRequest("mk-1-home", Decimal("3.10"), 1)
AWAY = LegRequest("mk-2-away", Decimal("2.40"), 1)


def both_reads(token: str, legs: list[LegRequest]):
    """The combined read, and the two reads it stands for."""
    combined = intake.read_slip_of_token(token, legs)
    player = get_token_player(token)
    separate = (
        None if player is None else (player, intake.read_slip(legs, player_id=player.pk, currency=player.currency_id))
    )
    return combined, separate


def test_a_players_token_reads_the_player_and_the_slip():
    a_match(markets=("mk-1", "mk-2"))
    player = funded_player(1_000)
    token = issue_token(player.user)

    combined, separate = both_reads(token, [HOME, AWAY])

    assert combined == separate
    found, read = combined
    assert (found.pk, found.currency_id) == (player.pk, "EUR")
    assert [leg.selection_id for leg in read.legs] == ["mk-1-home", "mk-2-away"]
    assert (read.stake_factor, read.breakers_on, read.exposure_open) == (None, frozenset(), False)


def test_the_stake_factor_the_breakers_and_the_exposure_rows_are_read_as_for_the_player():
    a_match()
    player = funded_player(100_000)
    token = issue_token(player.user)
    services.place_bet(
        player=player, idempotency_key="first", stake=100, currency="EUR", legs=[HOME], accept_price_changes="none"
    )  # fmt: skip  (opens the slip's exposure rows)
    services.set_stake_factor(player=player, factor=Decimal("0.25"), reason="sharp", acting_user=None)
    breakers.trip("cached_prices", "test")

    combined, separate = both_reads(token, [HOME])

    assert combined == separate
    read = combined[1]
    assert (read.stake_factor, read.breakers_on, read.exposure_open) == (
        Decimal("0.25"), frozenset({"cached_prices"}), True
    )  # fmt: skip


@pytest.mark.parametrize(
    "legs", [[LegRequest("nowhere", Decimal("2.00"), 1)], [HOME, LegRequest("x", Decimal("2"), 1)]]
)
def test_an_unknown_selection_is_refused_for_a_players_token(legs):
    a_match()
    token = issue_token(funded_player(1_000).user)

    with pytest.raises(errors.UnknownBetSelection):
        intake.read_slip_of_token(token, legs)


def test_two_legs_on_one_market_are_refused_for_a_players_token():
    a_match()
    token = issue_token(funded_player(1_000).user)

    with pytest.raises(errors.InvalidSlip):
        intake.read_slip_of_token(token, [HOME, LegRequest("mk-1-away", Decimal("2.40"), 1)])


def _revoked() -> str:
    token = issue_token(funded_player(1_000).user)
    revoke_token(token)
    return token


def _expired() -> str:
    player = funded_player(1_000)
    token = issue_token(player.user)
    AuthToken.objects.filter(user=player.user).update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    return token


def _inactive() -> str:
    player = funded_player(1_000)
    token = issue_token(player.user)
    player.user.is_active = False
    player.user.save(update_fields=["is_active"])
    return token


TOKENS = {
    "unknown": lambda: "not-a-token",
    "revoked": _revoked,
    "expired": _expired,
    "inactive user": _inactive,
    "staff": lambda: issue_token(make_staff(StaffRole.SUPPORT)),
}


@pytest.mark.parametrize("case", list(TOKENS))
@pytest.mark.parametrize("legs", [[HOME], [LegRequest("nowhere", Decimal("2.00"), 1)]])
def test_a_token_that_is_not_a_live_players_reads_nothing(case, legs):
    a_match()
    token = TOKENS[case]()

    assert intake.read_slip_of_token(token, legs) is None
    assert get_token_player(token) is None
