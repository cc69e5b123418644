"""The studio's (declared RTP, sigma) per game, what the games' catalogue records for the RTP
drift rule: roulette's sigma is the straight-up bet's (the largest), the slot's from its exact variance."""

from decimal import Decimal
from fractions import Fraction

import pytest

from apps.studio import catalogue, roulette, slot


def test_roulette_is_judged_with_the_straight_up_sigma_the_largest_of_its_bets():
    variances = {kind: roulette.return_variance(kind) for kind in roulette.BETS}
    assert variances["straight"] == Fraction(46656, 1369) == max(variances.values())
    assert variances["red"] == Fraction(1368, 1369)
    assert catalogue.expected_return("pam-roulette") == (Fraction(36, 37), Decimal("5.837837837838"))  # 216/37


def test_the_slot_sigma_is_the_square_root_of_its_exact_variance():
    rtp, sigma = catalogue.expected_return("pam-slot")
    game = catalogue.get("pam-slot")
    assert rtp == game.declared_rtp == Fraction(97397, 101250)
    variance = slot.enumerate_variance(game.config)
    assert abs(Fraction(sigma) ** 2 - variance) < Fraction(1, 10**11)
    assert Decimal("2.76") < sigma < Decimal("2.78")


def test_an_unknown_game_has_no_expected_return():
    with pytest.raises(KeyError):
        catalogue.expected_return("no-such-game")
