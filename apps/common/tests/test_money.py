"""Reference-rate conversion of thresholds: decimal arithmetic, each currency's exponent, rounded down."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from apps.common.money import convert_minor, parse_minor

EUR = SimpleNamespace(exponent=2, units_per_eur=Decimal("1"))
GBP = SimpleNamespace(exponent=2, units_per_eur=Decimal("0.85"))
JPY = SimpleNamespace(exponent=0, units_per_eur=Decimal("165.3"))
BHD = SimpleNamespace(exponent=3, units_per_eur=Decimal("0.41"))


@pytest.mark.parametrize(
    ("amount", "source", "target", "expected"),
    [
        (200_000, EUR, EUR, 200_000),
        (200_000, EUR, GBP, 170_000),
        (200_000, EUR, JPY, 330_600),  # 2,000 euros in yen, which has no minor unit
        (200_000, EUR, BHD, 820_000),  # fils: three decimals
        (170_000, GBP, EUR, 200_000),
        (1, EUR, GBP, 0),  # 0.85 of a penny: rounded down
        (999_999, GBP, JPY, 1_944_703),  # 9,999.99 / 0.85 * 165.3 = 1,944,703.93...
    ],
)
def test_convert_minor(amount, source, target, expected):
    assert convert_minor(amount, source, target) == expected


@pytest.mark.parametrize(
    ("text", "exponent", "minor"),
    [("12.50", 2, 1250), ("12.5", 2, 1250), ("12", 2, 1200), (" 0.01 ", 2, 1), (".5", 2, 50), ("7", 0, 7),
     ("1.234", 3, 1234)],
)  # fmt: skip
def test_parse_minor_reads_a_typed_amount_without_floats(text, exponent, minor):
    assert parse_minor(text, exponent) == minor


@pytest.mark.parametrize(("text", "exponent"), [("", 2), ("-1", 2), ("1.234", 2), ("1e3", 2), ("1,5", 2),
                                                ("1.5", 0), ("abc", 2), ("١٢", 2), (".", 2)])  # fmt: skip
def test_parse_minor_refuses_what_is_not_an_amount(text, exponent):
    with pytest.raises(ValueError, match=r"amount|digits"):
        parse_minor(text, exponent)
