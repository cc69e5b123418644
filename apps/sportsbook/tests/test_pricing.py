"""A slip's pricing in integers (intake.py, 2 and 4): the payout and the largest stakes the limits
take, against their definitions in exact rational arithmetic, for any prices and limits."""

import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from apps.sportsbook.intake import _largest_stake_paying, _largest_stake_within, potential_payout, price_product

prices = st.lists(
    st.integers(min_value=101, max_value=100_000).map(lambda cents: Decimal(cents) / 100), min_size=1, max_size=6
)
amounts = st.integers(min_value=-10, max_value=10**12)


def exact(legs: list[Decimal]) -> Fraction:
    return math.prod((Fraction(price) for price in legs), start=Fraction(1))


def liability(stake: int, legs: list[Decimal]) -> int:
    return math.floor(stake * exact(legs)) - stake


@given(legs=prices, stake=st.integers(min_value=1, max_value=10**12))
def test_the_payout_is_the_stake_times_the_prices_rounded_down(legs, stake):
    assert potential_payout(stake, legs) == math.floor(stake * exact(legs))


@given(legs=prices, headroom=amounts)
def test_the_largest_stake_within_a_headroom_is_the_last_whose_liability_fits(legs, headroom):
    largest = _largest_stake_within(headroom, price_product(legs))

    assert largest >= 0
    if largest:
        assert liability(largest, legs) <= headroom
    assert liability(largest + 1, legs) > headroom


@given(legs=prices, most=amounts)
def test_the_largest_stake_paying_at_most_a_payout_is_the_last_that_does(legs, most):
    largest = _largest_stake_paying(most, price_product(legs))

    assert largest >= 0
    if largest:
        assert math.floor(largest * exact(legs)) <= most
    assert math.floor((largest + 1) * exact(legs)) > most
