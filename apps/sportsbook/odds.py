"""Odds formats and the margin of a book, exact: `Decimal` and `fractions.Fraction`, never a float.

PAM stores a price as decimal odds with two places (`Decimal("2.35")`: the return per unit staked,
stake included), the contract's format. The others are display formats, each a function of the
decimal price:

- fractional: the profit per unit staked as a reduced fraction, `price - 1` (2.35 -> "27/20",
  2.00 -> "1/1"). Every two-decimal price has one exactly, and every fraction whose price has two
  places parses back to it exactly.
- American (moneyline): from 2.00 up, the profit on a stake of 100 (`+135`); below 2.00, the
  stake that wins 100 (`-200`). From 2.00 up it is always a whole number; below, it is
  `-100 / (price - 1)`, a whole number only for some prices (1.50 -> -200, 1.91 -> -10000/91).
  `american(price)` is that exact Fraction, which `from_american` turns back into the price
  exactly. Its display string has at most two decimals (`-109.89`) and `parse_american` reads a
  string as the nearest two-decimal price: below 2.00 |American| exceeds 100, so an error of
  0.005 in the string moves the price by under 0.00005, and the nearest price is the one shown.

The margin (overround) of a book, the prices of one market's selections, is
`sum(1 / price) - 1`: what the prices imply beyond certainty (0 for a fair book). `overround` is
exact (a Fraction); `book_margin` is the same as a Decimal for display and storage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

CENT = Decimal("0.01")
MIN_PRICE_EXCLUSIVE = Decimal(1)
# The largest price the database's column holds (`max_digits=7`, two places).
MAX_PRICE = Decimal("99999.99")

# A decimal price as text: digits, and at most two of them after the point (no sign, exponent,
# NaN or infinity, which `Decimal()` would all accept).
_DECIMAL = re.compile(r"(?P<units>[0-9]{1,5})(\.(?P<cents>[0-9]{1,2}))?")
# "27/20"; "evens" / "evs" / "EVS" are the bookmakers' names for 1/1.
_FRACTIONAL = re.compile(r"(?P<numerator>[0-9]{1,9})/(?P<denominator>[0-9]{1,9})")
_EVENS = {"evens", "evs"}
# "+135", "-200", "-109.89", "100" (a positive line may come without its sign).
_AMERICAN = re.compile(r"(?P<sign>[+-]?)(?P<units>[0-9]{1,9})(\.(?P<decimals>[0-9]{1,9}))?")


class InvalidPrice(ValueError):
    """Text or a value that is not a price PAM can hold: two places, above 1, at most MAX_PRICE."""


def checked(price: Decimal) -> Decimal:
    """`price` as stored (two places) once it is a price PAM can hold; InvalidPrice if not."""
    if not isinstance(price, Decimal) or not price.is_finite():
        raise InvalidPrice("a price is a finite Decimal")
    if price != price.quantize(CENT, rounding=ROUND_DOWN):
        raise InvalidPrice(f"{price} has more than two decimal places")
    if not MIN_PRICE_EXCLUSIVE < price <= MAX_PRICE:
        raise InvalidPrice(f"{price} is not above 1 and at most {MAX_PRICE}")
    return price.quantize(CENT)


def _from_fraction(value: Fraction, *, rounding: str | None = None) -> Decimal:
    """The two-decimal price equal to `value`; with `rounding`, the nearest one in that direction.
    InvalidPrice when `value` has no two-decimal form and no rounding is asked for."""
    cents = value * 100
    if cents.denominator != 1:
        if rounding is None:
            raise InvalidPrice(f"{value} is not a price with two decimal places")
        with localcontext() as context:
            context.prec = 40
            whole = (Decimal(cents.numerator) / Decimal(cents.denominator)).quantize(Decimal(1), rounding=rounding)
        cents = Fraction(int(whole))
    return checked(Decimal(int(cents)) / 100)


# --- decimal -------------------------------------------------------------------------------------


def parse_decimal(text: str) -> Decimal:
    """A decimal price as the contract writes it (`"2.35"`, `"3"`, `"1.5"`); InvalidPrice for
    anything else (a float, more than two places, an exponent, a sign, 1 or less)."""
    if not isinstance(text, str):
        raise InvalidPrice("a price is a string, never a number")
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise InvalidPrice(f"{text!r} is not a decimal price with at most two decimal places")
    return checked(Decimal(text))


def decimal_string(price: Decimal) -> str:
    """`"2.35"`: always two places, as the contract and the player API write prices."""
    return str(checked(price))


# --- fractional ----------------------------------------------------------------------------------


def fractional(price: Decimal) -> Fraction:
    """The profit per unit staked, exactly: `price - 1` (2.35 -> 27/20)."""
    return Fraction(checked(price)) - 1


def from_fractional(value: Fraction) -> Decimal:
    """The price whose fractional odds are `value`, exactly; InvalidPrice if it has no two-decimal form."""
    return _from_fraction(Fraction(value) + 1)


def fractional_string(price: Decimal) -> str:
    """`"27/20"`, reduced; evens is `"1/1"`."""
    value = fractional(price)
    return f"{value.numerator}/{value.denominator}"


def parse_fractional(text: str, *, rounding: str | None = None) -> Decimal:
    """The price of `"27/20"` (or `"evens"`), exactly. A fraction whose price has more than two
    decimals (`"8/13"`) is InvalidPrice unless `rounding` (a `decimal` rounding mode, e.g.
    `ROUND_DOWN`, which never offers more than the fraction) says how to reach two places."""
    if not isinstance(text, str):
        raise InvalidPrice("fractional odds are a string")
    if text.strip().lower() in _EVENS:
        return _from_fraction(Fraction(2))
    match = _FRACTIONAL.fullmatch(text.strip())
    if match is None or int(match["denominator"]) == 0 or int(match["numerator"]) == 0:
        raise InvalidPrice(f"{text!r} is not fractional odds like 27/20")
    return _from_fraction(Fraction(int(match["numerator"]), int(match["denominator"])) + 1, rounding=rounding)


# --- American ------------------------------------------------------------------------------------


def american(price: Decimal) -> Fraction:
    """The moneyline, exactly: `+100 * (price - 1)` from 2.00 up, `-100 / (price - 1)` below."""
    profit = fractional(price)
    return profit * 100 if profit >= 1 else -100 / profit


def from_american(value: Fraction) -> Decimal:
    """The price whose moneyline is `value`, exactly; InvalidPrice if there is none with two
    decimals, or `value` is not a moneyline (its size is 100 or more)."""
    value = Fraction(value)
    if value >= 100:
        return _from_fraction(1 + value / 100)
    if value <= -100:
        return _from_fraction(1 + 100 / -value)
    raise InvalidPrice(f"{value} is not a moneyline: its size is at least 100")


def american_string(price: Decimal) -> str:
    """`"+135"`, `"-200"`; a line that is not a whole number has two decimals (`"-109.89"`,
    rounded half-even), enough for `parse_american` to find the price again."""
    value = american(price)
    sign = "+" if value > 0 else "-"
    size = abs(value)
    if size.denominator == 1:
        return f"{sign}{size.numerator}"
    with localcontext() as context:
        context.prec = 40
        shown = (Decimal(size.numerator) / Decimal(size.denominator)).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return f"{sign}{shown}"


def parse_american(text: str) -> Decimal:
    """The two-decimal price nearest to the moneyline `text` (`"+135"`, `"-109.89"`, `"150"`).

    A moneyline in print is usually a rounding itself, so the price is the nearest one (half-even)
    rather than an exact one; for every line `american_string` writes, that is the price it was
    written from. InvalidPrice for text that is not a moneyline of size 100 or more."""
    if not isinstance(text, str):
        raise InvalidPrice("a moneyline is a string")
    match = _AMERICAN.fullmatch(text.strip())
    if match is None:
        raise InvalidPrice(f"{text!r} is not a moneyline like +135 or -200")
    size = Fraction(Decimal(f"{match['units']}.{match['decimals'] or '0'}"))
    if size < 100:
        raise InvalidPrice(f"{text!r} is not a moneyline: its size is at least 100")
    price = 1 + size / 100 if match["sign"] != "-" else 1 + 100 / size
    return _from_fraction(price, rounding=ROUND_HALF_EVEN)


# --- display -------------------------------------------------------------------------------------

# Each format's display and parser.
_FORMATS = {
    "decimal": (decimal_string, parse_decimal),
    "fractional": (fractional_string, parse_fractional),
    "american": (american_string, parse_american),
}
FORMATS = tuple(_FORMATS)


def _format(odds_format: str):
    if odds_format not in _FORMATS:
        raise ValueError(f"unknown odds format {odds_format!r}; one of {FORMATS}")
    return _FORMATS[odds_format]


def display(price: Decimal, odds_format: str) -> str:
    """The price as a player who chose `odds_format` (one of FORMATS) reads it."""
    return _format(odds_format)[0](price)


def parse(text: str, odds_format: str) -> Decimal:
    """The price `text` shows in `odds_format` (the fractional and American parsers' rules)."""
    return _format(odds_format)[1](text)


# --- the margin of a book ------------------------------------------------------------------------

# Places of `book_margin`: far below any difference that matters, far above what a Decimal of
# PostgreSQL's `numeric` or the admin shows.
MARGIN_PLACES = Decimal("1e-18")


def overround(prices: Iterable[Decimal]) -> Fraction:
    """`sum(1 / price) - 1` over the book's prices, exactly; ValueError for an empty book."""
    prices = [checked(price) for price in prices]
    if not prices:
        raise ValueError("a book has at least one price")
    return sum((1 / Fraction(price) for price in prices), Fraction(0)) - 1


def book_margin(prices: Iterable[Decimal]) -> Decimal:
    """The overround as a Decimal with 18 places (rounded half-even): within 5e-19 of `overround`."""
    exact = overround(prices)
    with localcontext() as context:
        context.prec = 60
        return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(MARGIN_PLACES, ROUND_HALF_EVEN)


def as_percent(margin: Decimal) -> str:
    """`"5.26 %"`: a margin in per cent with two places (half-even), for the back office."""
    return f"{(margin * 100).quantize(CENT, ROUND_HALF_EVEN)} %"


def margin_percent(prices: Iterable[Decimal]) -> str:
    """The book's margin as `as_percent` writes it."""
    return as_percent(book_margin(prices))


# --- the price ladder ----------------------------------------------------------------------------

# The exchanges' standard ladder of two-decimal prices: from each bound up to the next, the step.
LADDER_STEPS = (
    (Decimal("1.01"), Decimal("2"), Decimal("0.01")),
    (Decimal("2"), Decimal("3"), Decimal("0.02")),
    (Decimal("3"), Decimal("4"), Decimal("0.05")),
    (Decimal("4"), Decimal("6"), Decimal("0.1")),
    (Decimal("6"), Decimal("10"), Decimal("0.2")),
    (Decimal("10"), Decimal("20"), Decimal("0.5")),
    (Decimal("20"), Decimal("30"), Decimal("1")),
    (Decimal("30"), Decimal("50"), Decimal("2")),
    (Decimal("50"), Decimal("100"), Decimal("5")),
    (Decimal("100"), Decimal("1000"), Decimal("10")),
)


def ladder() -> list[Decimal]:
    """The standard ladder, 1.01 to 1000 in 350 prices (0.01 apart below 2, 10 apart above 100)."""
    prices = [LADDER_STEPS[0][0]]
    for low, high, step in LADDER_STEPS:
        price = low
        while price < high:
            price += step
            prices.append(price.quantize(CENT))
    return prices
