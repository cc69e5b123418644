"""The sandbox's Poisson prices: exact two-decimal prices above 1.00 whose book carries the
configured margin (plus no more than rounding down can add), and in-play prices that follow the
score and the clock."""

import random
import re
from decimal import Decimal
from fractions import Fraction

import pytest

from apps.sportsbook.sandbox import poisson

MARGIN = Decimal("0.05")
TWO_DECIMALS = re.compile(r"^\d+\.\d{2}$")


def assert_fair_book(prices: dict[str, Decimal], margin: Decimal = MARGIN) -> None:
    for price in prices.values():
        assert isinstance(price, Decimal)
        assert TWO_DECIMALS.match(str(price)), price
        assert poisson.MIN_PRICE <= price <= poisson.MAX_PRICE
    overround = poisson.overround(prices)
    assert Fraction(margin) <= overround <= Fraction(margin) + poisson.rounding_allowance(prices)


def test_the_pmf_of_a_rate_sums_to_one_and_peaks_at_its_mean():
    pmf = poisson.poisson_pmf(2.0)

    assert sum(pmf) == pytest.approx(1, abs=1e-12)
    assert pmf[0] == pytest.approx(0.1353352832366127)
    assert pmf[1] == pmf[2] == pytest.approx(0.2706705664732254)
    assert poisson.poisson_pmf(0.0)[:2] == [1.0, 0.0]
    with pytest.raises(ValueError, match="negative"):
        poisson.poisson_pmf(-0.1)


def test_a_book_is_priced_with_the_margin_and_rounded_down():
    # Fair prices 2, 4 and 4 grossed up by 5 % are 1.9047.., 3.8095.., 3.8095..: rounded down.
    prices = poisson.book({"home": 0.5, "draw": 0.25, "away": 0.25}, margin=MARGIN)

    assert prices == {"home": Decimal("1.90"), "draw": Decimal("3.80"), "away": Decimal("3.80")}
    assert [str(price) for price in prices.values()] == ["1.90", "3.80", "3.80"]
    assert_fair_book(prices)


def test_a_book_without_margin_of_fair_prices_is_exact():
    prices = poisson.book({"home": 0.5, "away": 0.5}, margin=Decimal("0"))

    assert prices == {"home": Decimal("2.00"), "away": Decimal("2.00")}
    assert poisson.overround(prices) == 0


def test_a_decided_market_has_no_book():
    assert poisson.book({"over": 1.0, "under": 0.0}, margin=MARGIN) is None
    # 99.9 % at a 5 % margin would be priced 0.95: below 1.01, not offered.
    assert poisson.book({"home": 0.999, "away": 0.001}, margin=MARGIN) is None
    # 0.01 % would be priced 9,523.80: over the 1,000.00 cap.
    assert poisson.book({"home": 0.9999, "away": 0.0001}, margin=Decimal("-0.9")) is None


def test_seeded_books_from_the_whole_range_of_rates_and_states_carry_the_margin():
    rng = random.Random(19)
    offered = 0
    for _ in range(400):
        rates = (rng.uniform(0.2, 3.5), rng.uniform(0.2, 3.5))
        score = (rng.randint(0, 4), rng.randint(0, 4))
        minutes_left = rng.uniform(0, 94)
        grid = poisson.score_grid(*poisson.remaining_rates(rates, minutes_left), score=score)
        share = poisson.extra_time_home_share(rates)
        for probabilities in (
            poisson.match_odds(grid),
            poisson.over_under(grid),
            poisson.to_qualify(grid, home_share_of_level=share),
        ):
            assert sum(probabilities.values()) == pytest.approx(1, abs=1e-9)
            prices = poisson.book(probabilities, margin=MARGIN)
            if prices is not None:
                offered += 1
                assert_fair_book(prices)
    # Scores like 4-0 or 3 goals already are decided; still, hundreds of books were checked.
    assert offered > 500


def test_in_play_prices_follow_the_clock_and_the_score():
    rates = (1.5, 1.2)

    def home_price(score, minutes_left):
        grid = poisson.score_grid(*poisson.remaining_rates(rates, minutes_left), score=score)
        return poisson.book(poisson.match_odds(grid), margin=MARGIN)["home"]

    before = home_price((0, 0), 94)
    assert home_price((1, 0), 60) < before  # a goal for the home side shortens its price
    assert home_price((0, 1), 60) > before  # a goal against lengthens it
    assert home_price((1, 0), 10) < home_price((1, 0), 60)  # a lead is worth more as time runs out


def test_over_under_is_decided_once_the_line_is_passed():
    grid = poisson.score_grid(*poisson.remaining_rates((1.3, 1.3), 30), score=(2, 1))

    assert poisson.over_under(grid) == {"over": pytest.approx(1.0), "under": 0}
    with pytest.raises(ValueError, match="half lines"):
        poisson.over_under(grid, Fraction(2))


def test_level_teams_are_even_to_qualify_from_a_level_score():
    assert poisson.extra_time_home_share((1.3, 1.3)) == pytest.approx(0.5)
    assert poisson.extra_time_home_share((2.0, 1.0)) > 0.5
    # With no time left, a level score is the shoot-out's coin toss.
    assert poisson.extra_time_home_share((2.0, 1.0), minutes_left=0) == pytest.approx(0.5)


def test_ratings_start_from_the_priors_and_move_with_results():
    ratings = poisson.Ratings(
        priors={"A": poisson.Strength(), "B": poisson.Strength(), "C": poisson.Strength(attack=1.2)},
        base_rate=1.25,
        prior_matches=3,
    )

    assert ratings.rates("A", "B") == pytest.approx((1.25, 1.25))
    assert ratings.rates("C", "A") == pytest.approx((1.5, 1.25))

    ratings.record("A", "B", (4, 0))

    # A: attack (3 x 1.25 + 4) / (4 x 1.25) = 1.55, defence 3.75 / 5 = 0.75; B the mirror image.
    assert ratings.strength("A") == poisson.Strength(attack=pytest.approx(1.55), defence=pytest.approx(0.75))
    assert ratings.strength("B") == poisson.Strength(attack=pytest.approx(0.75), defence=pytest.approx(1.55))
    assert ratings.rates("A", "B") == pytest.approx((1.25 * 1.55 * 1.55, 1.25 * 0.75 * 0.75))
