"""A game's expected return (declared RTP and sigma per unit staked): set through `save_game`,
exactly from a Fraction to 10 places, kept when a caller does not name it, read by the drift rule
through `game_expectations`."""

from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import IntegrityError, transaction

from apps.games import selectors, services
from apps.games.models import Game

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    return services.save_provider(code="acme", secret="s" * 24)


def test_save_game_sets_the_expected_return_exactly_and_keeps_it_when_not_named(provider):
    game = services.save_game(provider=provider, code="wheel", name="Wheel", game_type="table",
                              declared_rtp=Fraction(36, 37), return_sigma=Fraction(216, 37))  # fmt: skip
    game.refresh_from_db()
    assert (game.declared_rtp, game.return_sigma) == (Decimal("0.9729729730"), Decimal("5.8378378378"))
    assert game.monitored
    renamed = services.save_game(provider=provider, code="wheel", name="Roulette", game_type="table")
    renamed.refresh_from_db()
    assert (renamed.name, renamed.declared_rtp, renamed.return_sigma) == (
        "Roulette", Decimal("0.9729729730"), Decimal("5.8378378378"),
    )  # fmt: skip
    blanked = services.save_game(provider=provider, code="wheel", name="Roulette", game_type="table",
                                 return_sigma=None)  # fmt: skip
    blanked.refresh_from_db()
    assert (blanked.declared_rtp, blanked.return_sigma, blanked.monitored) == (Decimal("0.9729729730"), None, False)


@pytest.mark.parametrize(("rtp", "sigma"), [(Decimal(0), Decimal(1)), (Decimal(10), Decimal(1)),
                                            (Decimal("0.9"), Decimal(0)), (Decimal("0.9"), Decimal(-1))])  # fmt: skip
def test_values_out_of_range_are_refused_and_nothing_is_written(provider, rtp, sigma):
    with pytest.raises(ValueError, match=r"RTP|deviation"):
        services.save_game(provider=provider, code="bad", name="Bad", game_type="slots", declared_rtp=rtp,
                           return_sigma=sigma)  # fmt: skip
    assert not Game.objects.filter(code="bad").exists()


def test_the_database_refuses_them_too(provider):
    with pytest.raises(IntegrityError), transaction.atomic():
        Game.objects.create(provider=provider, code="raw", name="Raw", declared_rtp=Decimal("-0.5"))


def acme_expectations(**kwargs) -> dict:
    """The provider's own entries (the studio's games, provisioned at migrate, are monitored too)."""
    return {key: value for key, value in selectors.game_expectations(**kwargs).items() if key[0] == "acme"}


def test_game_expectations_lists_only_monitored_games_and_forgets_on_save(provider):
    services.save_game(provider=provider, code="half", name="Half", game_type="slots", declared_rtp=Decimal("0.95"))
    assert acme_expectations(cached=False) == {}
    services.save_game(provider=provider, code="half", name="Half", game_type="slots", return_sigma=Decimal("2"))
    assert acme_expectations() == {("acme", "half"): (Decimal("0.9500000000"), Decimal("2.0000000000"))}
