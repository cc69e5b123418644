"""European single-zero roulette: the pockets, the standard bets, the spin, the settlement and
the exact RTP (docs/studio.md, "Roulette").

The layout: 0 above three columns of twelve rows, row r holding 3r+1, 3r+2, 3r+3. A bet covers
a set of numbers that its kind allows on that layout, and pays `PAYOUTS[kind]` to 1 when the ball
lands on one of them. Every bet pays (36 / covered - 1) to 1, so each kind returns 36/37 of its
stake over the 37 pockets: the game's RTP is 97.297…% whatever the player bets. The even-money
bets lose on zero (no la partage, no en prison).

`spin` draws the pocket from an `Rng` and nothing else; `settle` turns a bet and a pocket into
money. The outcome never sees the stake.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from apps.common.errors import PamError
from apps.studio.rng import SYSTEM, Rng

POCKETS = range(37)
RED = frozenset({1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36})
BLACK = frozenset(range(1, 37)) - RED

DECLARED_RTP = Fraction(36, 37)


def colour(pocket: int) -> str:
    if pocket == 0:
        return "green"
    return "red" if pocket in RED else "black"


def _row(number: int) -> int:
    return (number - 1) // 3


def _column(number: int) -> int:
    """1, 2 or 3: the column of a number 1-36 (1, 4, 7 … is the first)."""
    return (number - 1) % 3 + 1


# The sets of numbers each kind may cover, derived once from the layout.
_STRAIGHTS = [frozenset({n}) for n in POCKETS]
_SPLITS = (
    [frozenset({n, n + 1}) for n in range(1, 36) if _column(n) != 3]  # side by side in a row
    + [frozenset({n, n + 3}) for n in range(1, 34)]  # one above the other in a column
    + [frozenset({0, n}) for n in (1, 2, 3)]  # zero with a number of the first row
)
_STREETS = [frozenset({n, n + 1, n + 2}) for n in range(1, 37, 3)] + [
    frozenset({0, 1, 2}),  # the trios: zero with two numbers of the first row
    frozenset({0, 2, 3}),
]
_CORNERS = [frozenset({n, n + 1, n + 3, n + 4}) for n in range(1, 33) if _column(n) != 3] + [
    frozenset({0, 1, 2, 3})  # the "first four"
]
_SIX_LINES = [frozenset(range(n, n + 6)) for n in range(1, 32, 3)]
_COLUMNS = [frozenset(n for n in range(1, 37) if _column(n) == c) for c in (1, 2, 3)]
_DOZENS = [frozenset(range(1 + 12 * d, 13 + 12 * d)) for d in range(3)]
_EVEN_MONEY = {
    "red": RED,
    "black": BLACK,
    "odd": frozenset(range(1, 37, 2)),
    "even": frozenset(range(2, 37, 2)),
    "low": frozenset(range(1, 19)),
    "high": frozenset(range(19, 37)),
}

# kind -> (every set of numbers it may cover, what it pays to 1)
BETS: dict[str, tuple[list[frozenset[int]], int]] = {
    "straight": (_STRAIGHTS, 35),
    "split": (_SPLITS, 17),
    "street": (_STREETS, 11),
    "corner": (_CORNERS, 8),
    "six_line": (_SIX_LINES, 5),
    "column": (_COLUMNS, 2),
    "dozen": (_DOZENS, 2),
    **{kind: ([numbers], 1) for kind, numbers in _EVEN_MONEY.items()},
}
PAYOUTS = {kind: pays for kind, (_, pays) in BETS.items()}


class InvalidBet(PamError):
    code = "INVALID_BET"
    status = 400
    default_message = "The bet is not one the roulette table accepts."


@dataclass(frozen=True)
class Bet:
    """One bet on the table: its kind, the numbers it covers, its stake in minor units. Build it
    with `bet()`, which refuses what the layout does not allow."""

    kind: str
    numbers: frozenset[int]
    stake: int


def bet(kind: str, numbers=None, stake: int = 1) -> Bet:
    """A validated bet. `numbers` are the covered numbers for straight, split, street, corner and
    six line; the column or dozen's index (1-3) for those; nothing for the even-money bets."""
    if kind not in BETS:
        raise InvalidBet(f"Unknown bet kind {kind!r}.", details={"kind": kind})
    if isinstance(stake, bool) or not isinstance(stake, int) or stake <= 0:
        raise InvalidBet("The stake must be a positive integer of minor units.", details={"stake": stake})
    allowed, _ = BETS[kind]
    if kind in ("column", "dozen"):
        if isinstance(numbers, bool) or numbers not in (1, 2, 3):
            raise InvalidBet(f"A {kind} is 1, 2 or 3.", details={"kind": kind})
        covered = allowed[numbers - 1]
    elif kind in _EVEN_MONEY:
        if numbers is not None:
            raise InvalidBet(f"A {kind} bet names no numbers.", details={"kind": kind})
        covered = allowed[0]
    else:
        try:
            covered = frozenset(numbers)
        except TypeError:
            raise InvalidBet(f"A {kind} names the numbers it covers.", details={"kind": kind}) from None
        if any(isinstance(n, bool) or not isinstance(n, int) for n in covered) or covered not in allowed:
            raise InvalidBet(f"{sorted(covered, key=str)} is not a {kind} on the layout.", details={"kind": kind})
    return Bet(kind=kind, numbers=covered, stake=stake)


def spin(rng: Rng = SYSTEM) -> int:
    """The pocket, 0-36, each with probability 1/37. Takes nothing but the random source."""
    return rng.below(37)


def settle(placed: Bet, pocket: int) -> int:
    """What the bet returns for the pocket, stake included, in minor units (0 when it loses)."""
    if pocket in placed.numbers:
        return placed.stake * (PAYOUTS[placed.kind] + 1)
    return 0


def play(bets: list[Bet], rng: Rng = SYSTEM) -> tuple[int, int]:
    """One round as the game plays it: the pocket is drawn first, from the random source alone,
    then every bet is settled against it. Returns (pocket, total returned)."""
    pocket = spin(rng)
    return pocket, sum(settle(placed, pocket) for placed in bets)


def bet_rtp(placed: Bet) -> Fraction:
    """The bet's expected return per unit staked, enumerated over the 37 equally likely pockets."""
    return Fraction(sum(settle(placed, pocket) for pocket in POCKETS), 37 * placed.stake)


def rtp(kind: str) -> Fraction:
    """The kind's RTP, enumerated over the 37 pockets for every placement the layout allows.
    They are all equal (36/37); a layout or payout table that made them differ is refused."""
    if kind not in BETS:
        raise InvalidBet(f"Unknown bet kind {kind!r}.", details={"kind": kind})
    allowed, _ = BETS[kind]
    values = {bet_rtp(Bet(kind=kind, numbers=numbers, stake=1)) for numbers in allowed}
    if len(values) != 1:
        raise ValueError(f"the placements of {kind} have different RTPs: {sorted(values)}")
    return values.pop()


def enumerated_rtp() -> Fraction:
    """The game's RTP: the lowest of its bet kinds' (all 36/37 on a single-zero wheel)."""
    return min(rtp(kind) for kind in BETS)


def return_variance(kind: str) -> Fraction:
    """The variance of one bet's return per unit staked, enumerated over the 37 pockets: the same
    for every placement of a kind (each covers c numbers and pays 36/c - 1 to 1). Straight up, the
    largest: 46656/1369 (sigma = 216/37)."""
    if kind not in BETS:
        raise InvalidBet(f"Unknown bet kind {kind!r}.", details={"kind": kind})
    placed = Bet(kind=kind, numbers=BETS[kind][0][0], stake=1)
    returns = [Fraction(settle(placed, pocket)) for pocket in POCKETS]
    mean = sum(returns) / len(returns)
    return sum((value - mean) ** 2 for value in returns) / len(returns)
