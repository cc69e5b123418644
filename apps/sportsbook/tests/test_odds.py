"""Odds formats convert exactly and the margin of a book is exact: no float anywhere.

The canonical prices are 200 of the exchanges' standard ladder (odds.ladder(): 350 prices from
1.01 to 1000), taken at evenly spaced places along it, the first and the last included:
place `round(i * 349 / 199)` for i = 0 … 199.
"""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from apps.sportsbook import odds

LADDER = odds.ladder()
CANONICAL = [LADDER[round(Fraction(i * (len(LADDER) - 1), 199))] for i in range(200)]


def test_the_ladder_is_the_standard_one():
    assert len(LADDER) == 350
    assert (LADDER[0], LADDER[99], LADDER[100], LADDER[-1]) == (
        Decimal("1.01"), Decimal("2.00"), Decimal("2.02"), Decimal("1000.00"))  # fmt: skip
    assert sorted(set(LADDER)) == LADDER
    assert all(isinstance(price, Decimal) and price == price.quantize(odds.CENT) for price in LADDER)


def test_the_200_canonical_prices_are_distinct_and_span_the_ladder():
    assert len(set(CANONICAL)) == 200
    assert (CANONICAL[0], CANONICAL[-1]) == (Decimal("1.01"), Decimal("1000.00"))


@pytest.mark.parametrize("price", CANONICAL, ids=str)
def test_decimal_to_fractional_and_back_is_exact(price):
    value = odds.fractional(price)

    assert isinstance(value, Fraction)
    assert value == Fraction(price) - 1
    assert odds.from_fractional(value) == price
    assert odds.parse_fractional(odds.fractional_string(price)) == price


@pytest.mark.parametrize("price", CANONICAL, ids=str)
def test_decimal_to_american_and_back_is_exact(price):
    value = odds.american(price)

    assert isinstance(value, Fraction)
    assert abs(value) >= 100
    assert odds.from_american(value) == price
    assert odds.parse_american(odds.american_string(price)) == price


@pytest.mark.parametrize("price", CANONICAL, ids=str)
def test_decimal_strings_parse_back_to_the_price(price):
    assert odds.parse_decimal(odds.decimal_string(price)) == price
    for odds_format in odds.FORMATS:
        assert odds.parse(odds.display(price, odds_format), odds_format) == price


@pytest.mark.parametrize(
    ("price", "fractional", "american"),
    [
        ("2.00", "1/1", "+100"),
        ("2.35", "27/20", "+135"),
        ("1.50", "1/2", "-200"),
        ("1.01", "1/100", "-10000"),
        ("1.91", "91/100", "-109.89"),
        ("1.25", "1/4", "-400"),
        ("11.00", "10/1", "+1000"),
        ("1000.00", "999/1", "+99900"),
    ],
)
def test_worked_examples_of_each_format(price, fractional, american):
    price = Decimal(price)

    assert odds.display(price, "decimal") == str(price)
    assert odds.display(price, "fractional") == fractional
    assert odds.display(price, "american") == american


def test_a_moneyline_below_two_is_exact_as_a_fraction():
    assert odds.american(Decimal("1.91")) == Fraction(-10000, 91)
    assert odds.from_american(Fraction(-10000, 91)) == Decimal("1.91")
    # The rounded line of print reads as the nearest price.
    assert odds.parse_american("-110") == Decimal("1.91")
    assert odds.parse_american("150") == odds.parse_american("+150") == Decimal("2.50")


def test_evens_and_fractions_without_two_decimals():
    assert odds.parse_fractional("evens") == odds.parse_fractional("EVS") == Decimal("2.00")
    with pytest.raises(odds.InvalidPrice):
        odds.parse_fractional("8/13")  # 1.6153…: no two-decimal price
    assert odds.parse_fractional("8/13", rounding="ROUND_DOWN") == Decimal("1.61")
    with pytest.raises(odds.InvalidPrice):
        odds.from_american(Fraction(-300))  # 1.3333…


@pytest.mark.parametrize(
    "text", ["1.00", "1", "0.50", "2.345", "2,35", "-2.35", "+2.35", "1e1", "NaN", "Infinity", " 2.35", "", "100000"]
)
def test_a_decimal_price_is_two_places_above_one(text):
    with pytest.raises(odds.InvalidPrice):
        odds.parse_decimal(text)


def test_a_price_is_never_a_float():
    with pytest.raises(odds.InvalidPrice):
        odds.parse_decimal(2.35)
    with pytest.raises(odds.InvalidPrice):
        odds.checked(2.35)


@pytest.mark.parametrize("text", ["0/5", "5/0", "1.5/2", "-1/2", "1/", "one/two"])
def test_fractional_text_that_is_not_odds(text):
    with pytest.raises(odds.InvalidPrice):
        odds.parse_fractional(text)


@pytest.mark.parametrize("text", ["+99", "-50", "0", "1e3", "--200", ""])
def test_american_text_that_is_not_a_moneyline(text):
    with pytest.raises(odds.InvalidPrice):
        odds.parse_american(text)


# --- margin --------------------------------------------------------------------------------------


def reference_overround(prices: list[Decimal]) -> Fraction:
    """sum(1/price) - 1, computed independently: each price as a whole number of hundredths."""
    return sum(Fraction(100, int(price * 100)) for price in prices) - 1


def seeded_books(count: int) -> list[list[Decimal]]:
    """`count` books of 2 to 12 ladder prices each (seeded: the same books on every run)."""
    chooser = random.Random(20221120)
    return [[chooser.choice(LADDER) for _ in range(chooser.randint(2, 12))] for _ in range(count)]


def test_the_margin_of_1000_books_equals_the_reference_formula():
    books = seeded_books(1000)

    for prices in books:
        reference = reference_overround(prices)
        assert odds.overround(prices) == reference
        assert abs(Fraction(odds.book_margin(prices)) - reference) <= Fraction(1, 10**12)


def test_a_fair_book_has_no_margin_and_a_bookmakers_has_one():
    assert odds.overround([Decimal("2.00"), Decimal("2.00")]) == 0
    assert odds.overround([Decimal("1.90"), Decimal("1.90")]) == Fraction(1, 19)
    assert odds.margin_percent([Decimal("1.90"), Decimal("1.90")]) == "5.26 %"
    assert odds.margin_percent([Decimal("3.10"), Decimal("3.20"), Decimal("2.40")]) == "5.17 %"  # 77/1488
    with pytest.raises(ValueError, match="at least one price"):
        odds.overround([])
