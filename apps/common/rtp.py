"""Live return to player: stake bands and the drift band's arithmetic (docs/rtp.md).

Pure values and functions, shared by the wallet's selector (the bands it groups by), the games'
report page and compliance's drift rule (the judgement), so the three agree to the unit.

The band. A round of stake s returns X·s, where X (the return per unit staked) has mean `rtp`
and standard deviation sigma, the game's. Over n rounds of stakes s_i the observed RTP is
ΣX_i·s_i / Σs_i; its standard deviation is sigma·sqrt(Σs_i²)/Σs_i (the stake-weighted form: with
equal stakes it is sigma/√n). A game is **outside** when the observed RTP is further from `rtp` than
`sigmas` of those: |R - rtp·S| > sigmas·sigma·sqrt(Q), with R the returned, S the staked and Q the sum of
the squared stakes. Decided exactly, on the squares of rationals (no square root, no float): a
game exactly at the edge is inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

# The stake bands, by their lower bound in minor units of the round's currency (a round's stake is
# what its standing bets took): < 100, 100-999, 1,000-9,999, ≥ 10,000. Per currency as stored: a
# band of JPY (no minor unit) is not the same money as one of EUR, so every row names its currency.
STAKE_BAND_FLOORS: tuple[int, ...] = (0, 100, 1_000, 10_000)
DEFAULT_SIGMAS = 3
SHOWN_PLACES = Decimal("1e-6")


def band_of(stake: int) -> int:
    """The band (index into STAKE_BAND_FLOORS) of a round that staked `stake` (> 0) minor units."""
    return max(i for i, floor in enumerate(STAKE_BAND_FLOORS) if stake >= floor)


def band_label(band: int) -> str:
    """`< 100`, `100-999`, `1,000-9,999`, `≥ 10,000` (minor units)."""
    floor = STAKE_BAND_FLOORS[band]
    if band == 0:
        return f"< {STAKE_BAND_FLOORS[1]:,}"
    if band == len(STAKE_BAND_FLOORS) - 1:
        return f"≥ {floor:,}"
    return f"{floor:,}-{STAKE_BAND_FLOORS[band + 1] - 1:,}"


def is_outside(*, staked: int, returned: int, staked_squares: int, rtp, sigma, sigmas: int) -> bool:
    """Whether `returned` over `staked` (stakes whose squares sum to `staked_squares`) is outside
    rtp ± sigmas·sigma·sqrt(staked_squares)/staked. Exact: `rtp` and `sigma` are Decimals or Fractions."""
    if staked <= 0:
        return False
    gap = Fraction(returned) - Fraction(rtp) * staked
    return gap * gap > Fraction(sigmas) ** 2 * Fraction(sigma) ** 2 * staked_squares


def half_width(*, staked: int, staked_squares: int, sigma, sigmas: int) -> Decimal:
    """sigmas·sigma·sqrt(staked_squares)/staked, to 6 places (what the report shows; `is_outside` decides)."""
    with localcontext() as context:
        context.prec = 34
        width = Decimal(sigmas) * _decimal(sigma) * Decimal(staked_squares).sqrt() / Decimal(staked)
        return width.quantize(SHOWN_PLACES, rounding=ROUND_HALF_EVEN)


def ratio(returned: int, staked: int) -> Decimal:
    """The observed RTP, returned / staked, to 6 places."""
    with localcontext() as context:
        context.prec = 34
        return (Decimal(returned) / Decimal(staked)).quantize(SHOWN_PLACES, rounding=ROUND_HALF_EVEN)


def _decimal(value) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value)


@dataclass(frozen=True)
class LiveRtp:
    """One row of the live RTP report: a provider's game, a currency and a stake band over the
    window. `expected`, `half_width`, `outside` are None for a game that is not monitored (no
    declared RTP or sigma in the catalogue)."""

    provider: str
    game: str
    currency: str
    band: int
    rounds: int
    staked: int
    returned: int
    staked_squares: int
    expected: Decimal | None
    sigma: Decimal | None
    half_width: Decimal | None
    outside: bool | None

    @property
    def band_label(self) -> str:
        return band_label(self.band)

    @property
    def observed(self) -> Decimal:
        return ratio(self.returned, self.staked)

    @property
    def low(self) -> Decimal | None:
        """The band's lower edge, to 6 places."""
        return None if self.expected is None else (self.expected - self.half_width).quantize(SHOWN_PLACES)

    @property
    def high(self) -> Decimal | None:
        """The band's upper edge, to 6 places."""
        return None if self.expected is None else (self.expected + self.half_width).quantize(SHOWN_PLACES)

    @property
    def subject(self) -> str:
        """What a drift alert is about: `provider/game currency band`, e.g. `acme/fruits EUR 1`."""
        return f"{self.provider}/{self.game} {self.currency} {self.band}"

    def as_row(self) -> list:
        """The CSV row (amounts in minor units), in `CSV_HEADER`'s order."""
        blank = ""
        return [
            self.provider, self.game, self.currency, self.band_label, self.rounds, self.staked, self.returned,
            self.observed, blank if self.expected is None else self.expected,
            blank if self.half_width is None else self.half_width,
            blank if self.outside is None else ("out" if self.outside else "in"),
        ]  # fmt: skip


CSV_HEADER = ["provider", "game", "currency", "stake_band", "rounds", "staked", "returned", "observed_rtp",
              "expected_rtp", "band_half_width", "in_band"]  # fmt: skip


def judge(
    *, provider: str, game: str, currency: str, band: int, rounds: int, staked: int, returned: int,
    staked_squares: int, expectation: tuple | None, sigmas: int = DEFAULT_SIGMAS,
) -> LiveRtp:  # fmt: skip
    """The report's row for these totals and the game's (declared RTP, sigma), or None: not monitored."""
    if expectation is None:
        expected = sigma = width = outside = None
    else:
        expected, sigma = _decimal(expectation[0]), _decimal(expectation[1])
        width = half_width(staked=staked, staked_squares=staked_squares, sigma=expectation[1], sigmas=sigmas)
        outside = is_outside(staked=staked, returned=returned, staked_squares=staked_squares,
                             rtp=expectation[0], sigma=expectation[1], sigmas=sigmas)  # fmt: skip
    return LiveRtp(
        provider=provider, game=game, currency=currency, band=band, rounds=rounds, staked=staked,
        returned=returned, staked_squares=staked_squares, expected=expected, sigma=sigma, half_width=width,
        outside=outside,
    )  # fmt: skip
