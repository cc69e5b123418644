"""The drift band's arithmetic (`common.rtp`): exact at the edges, stake-weighted."""

from decimal import Decimal
from fractions import Fraction

from apps.common import rtp

# 100 rounds of 100: staked 10,000, the squares sum to 1,000,000 (sqrt 1,000). With sigma 0.5 and 3
# sigmas the band is 3 x 0.5 x 1,000 / 10,000 = 0.15 either side of the RTP: 9,600 expected back
# at 96 %, so anything from 8,100 to 11,100 returned is inside.
EQUAL = {"staked": 10_000, "staked_squares": 1_000_000}


def outside(returned, **overrides):
    values = {**EQUAL, "rtp": Decimal("0.96"), "sigma": Decimal("0.5"), "sigmas": 3, **overrides}
    return rtp.is_outside(returned=returned, **values)


def test_exactly_at_the_edges_is_inside_and_one_unit_beyond_is_outside():
    assert [outside(r) for r in (8_099, 8_100, 9_600, 11_100, 11_101)] == [True, False, False, False, True]
    assert rtp.half_width(sigma=Decimal("0.5"), sigmas=3, **EQUAL) == Decimal("0.150000")


def test_the_number_of_sigmas_scales_the_band():
    # 2 sigmas: 0.10 either side, up to 10,600 inside; 3 sigmas take 10,601 in.
    assert [outside(r, sigmas=2) for r in (10_600, 10_601)] == [False, True]
    assert not outside(10_601, sigmas=3)


def test_unequal_stakes_use_the_stake_weighted_form():
    # Stakes 300 and 400: staked 700, squares 250,000 (sqrt 500). sigma 1.4, 1 sigma: 1.4 x 500 / 700 = 1.0.
    values = {"staked": 700, "staked_squares": 250_000, "rtp": Fraction(1, 2), "sigma": Decimal("1.4"), "sigmas": 1}
    assert rtp.half_width(staked=700, staked_squares=250_000, sigma=Decimal("1.4"), sigmas=1) == Decimal("1.000000")
    assert [rtp.is_outside(returned=r, **values) for r in (1_050, 1_051)] == [False, True]
    # The equal-stakes shortcut sigma/sqrt(n) would have said 1.4/sqrt(2) = 0.99: narrower than the truth.


def test_an_exact_fraction_rtp_is_judged_without_rounding():
    # 36/37 over 37 rounds of 1 with sigma tiny: exactly 36 back is inside, 36 and a unit more is not.
    values = {"staked": 37, "staked_squares": 37, "rtp": Fraction(36, 37), "sigma": Decimal("1e-10"), "sigmas": 3}
    assert not rtp.is_outside(returned=36, **values)
    assert rtp.is_outside(returned=37, **values)


def test_judge_gives_the_row_of_the_report():
    row = rtp.judge(provider="acme", game="fruits", currency="EUR", band=1, rounds=100, returned=11_101,
                    expectation=(Decimal("0.96"), Decimal("0.5")), **EQUAL)  # fmt: skip
    assert (row.observed, row.expected, row.half_width, row.low, row.high, row.outside) == (
        Decimal("1.110100"), Decimal("0.96"), Decimal("0.150000"), Decimal("0.810000"), Decimal("1.110000"), True,
    )  # fmt: skip
    assert row.subject == "acme/fruits EUR 1"
    assert row.as_row() == ["acme", "fruits", "EUR", "100-999", 100, 10_000, 11_101, Decimal("1.110100"),
                            Decimal("0.96"), Decimal("0.150000"), "out"]  # fmt: skip
    unmonitored = rtp.judge(provider="acme", game="x", currency="EUR", band=0, rounds=1, staked=10, returned=5,
                            staked_squares=100, expectation=None)  # fmt: skip
    assert (unmonitored.expected, unmonitored.outside, unmonitored.as_row()[-3:]) == (None, None, ["", "", ""])
