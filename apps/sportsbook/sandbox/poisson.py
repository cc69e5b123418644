"""Synthetic football prices from a Poisson model, with a proportional margin.

The model (Maher's, the textbook one): each side's goals in a match are independent Poisson
counts. A side's rate per 90 minutes is `base_rate x its attack x the opponent's defence`; an
attack or defence of 1 is an average side. The World Cup is played on neutral ground, so there is
no home advantage.

Strengths (`Ratings`): each side starts from a prior (the sandbox draws it from a seeded
log-normal, there being no vendored ranking) worth `prior_matches` average matches, and each
result it has played so far in the tournament moves it, in 90-minute goals:

    attack  = (prior_matches x prior.attack  x base_rate + goals for)     / ((prior_matches + played) x base_rate)
    defence = (prior_matches x prior.defence x base_rate + goals against) / ((prior_matches + played) x base_rate)

So prices before a match use only the matches finished by then, never the match's own result.

In play, the goals still to come are Poisson with the rate scaled by the share of the 90 minutes
left, added to the current score; the same grid prices every market. Extra time is 30 minutes at
the same rate per minute; a shoot-out is a coin toss.

Prices: the probabilities are made exact (`Fraction`) and normalised, each is grossed up by the
margin (`price = 1 / (p x (1 + margin))`, so the book's overround, `sum(1 / price) - 1`, is the
margin) and rounded DOWN to two decimals, which only adds to the overround, by at most
`rounding_allowance(prices)`. A book with a price under `MIN_PRICE` or over `MAX_PRICE` is not
offered (`None`): the market is as good as decided and stays suspended until its result. Floats
are used for the probabilities only; every price is a `Decimal` made from exact arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

MIN_PRICE = Decimal("1.01")
MAX_PRICE = Decimal("1000.00")
PRICE_STEP = Decimal("0.01")
# Goals still to come counted one by one per side; the last count holds all the more ones (a
# side scoring 15 or more is a margin of error here, and the grid then sums to one).
MAX_GOALS = 15
REGULATION_MINUTES = 90
EXTRA_TIME_MINUTES = 30

Grid = dict[tuple[int, int], float]


@dataclass(frozen=True)
class Strength:
    attack: float = 1.0
    defence: float = 1.0


@dataclass
class Ratings:
    """Each side's strength from its prior and the results it has played (90-minute goals)."""

    priors: dict[str, Strength]
    base_rate: float = 1.3  # goals per side per 90 minutes, about a World Cup's average
    prior_matches: float = 3.0
    _record: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # for, against, played

    def strength(self, team: str) -> Strength:
        prior = self.priors.get(team, Strength())
        scored, conceded, played = self._record.get(team, (0, 0, 0))
        weight = self.prior_matches * self.base_rate
        denominator = (self.prior_matches + played) * self.base_rate
        return Strength(
            attack=(weight * prior.attack + scored) / denominator,
            defence=(weight * prior.defence + conceded) / denominator,
        )

    def rates(self, home: str, away: str) -> tuple[float, float]:
        """Expected goals of each side over 90 minutes."""
        home_strength, away_strength = self.strength(home), self.strength(away)
        return (
            self.base_rate * home_strength.attack * away_strength.defence,
            self.base_rate * away_strength.attack * home_strength.defence,
        )

    def record(self, home: str, away: str, score: tuple[int, int]) -> None:
        for team, scored, conceded in ((home, score[0], score[1]), (away, score[1], score[0])):
            old_for, old_against, played = self._record.get(team, (0, 0, 0))
            self._record[team] = (old_for + scored, old_against + conceded, played + 1)


def poisson_pmf(rate: float, *, up_to: int = MAX_GOALS) -> list[float]:
    """P(N = k) for k in 0..up_to - 1, then P(N >= up_to), N Poisson with mean `rate` (0 allowed:
    all mass on 0)."""
    if rate < 0:
        raise ValueError("a goal rate cannot be negative")
    probabilities = [math.exp(-rate)]
    for goals in range(1, up_to):
        probabilities.append(probabilities[-1] * rate / goals)
    probabilities.append(max(1.0 - math.fsum(probabilities), 0.0))
    return probabilities


def score_grid(home_rate: float, away_rate: float, *, score: tuple[int, int] = (0, 0)) -> Grid:
    """P(final score) when each side adds Poisson(rate) goals to `score`."""
    home_pmf, away_pmf = poisson_pmf(home_rate), poisson_pmf(away_rate)
    return {
        (score[0] + home_goals, score[1] + away_goals): home_p * away_p
        for home_goals, home_p in enumerate(home_pmf)
        for away_goals, away_p in enumerate(away_pmf)
    }


def remaining_rates(rates: tuple[float, float], minutes_left: float) -> tuple[float, float]:
    """The 90-minute rates scaled to the minutes of play left."""
    share = max(minutes_left, 0.0) / REGULATION_MINUTES
    return (rates[0] * share, rates[1] * share)


def match_odds(grid: Grid) -> dict[str, float]:
    """Home win, draw, away win."""
    return {
        "home": sum(p for (home, away), p in grid.items() if home > away),
        "draw": sum(p for (home, away), p in grid.items() if home == away),
        "away": sum(p for (home, away), p in grid.items() if home < away),
    }


def over_under(grid: Grid, line: Fraction = Fraction(5, 2)) -> dict[str, float]:
    """More or fewer goals in total than `line` (a half line, so there is no push)."""
    if line.denominator != 2:
        raise ValueError("over/under is priced on half lines only")
    return {
        "over": sum(p for (home, away), p in grid.items() if home + away > line),
        "under": sum(p for (home, away), p in grid.items() if home + away < line),
    }


def to_qualify(grid: Grid, *, home_share_of_level: float) -> dict[str, float]:
    """Which side goes through: a lead at the end of `grid` wins; a level score goes on, and
    the home side wins `home_share_of_level` of it (extra time, then a shoot-out)."""
    odds = match_odds(grid)
    return {
        "home": odds["home"] + odds["draw"] * home_share_of_level,
        "away": odds["away"] + odds["draw"] * (1 - home_share_of_level),
    }


def extra_time_home_share(rates: tuple[float, float], *, minutes_left: float = EXTRA_TIME_MINUTES) -> float:
    """The home side's chance of going through from a level score with `minutes_left` of extra
    time to play (the shoot-out a coin toss)."""
    odds = match_odds(score_grid(*remaining_rates(rates, minutes_left)))
    return odds["home"] + odds["draw"] / 2


def book(probabilities: dict[str, float], *, margin: Decimal) -> dict[str, Decimal] | None:
    """Decimal prices with the margin applied proportionally, rounded down to two decimals; None
    when a price falls outside MIN_PRICE..MAX_PRICE (a market not worth offering)."""
    exact = {key: Fraction(p) for key, p in probabilities.items()}
    total = sum(exact.values())
    if total <= 0 or any(p <= 0 for p in exact.values()):
        return None
    grossed = 1 + Fraction(margin)
    prices = {}
    for key, p in exact.items():
        hundredths = math.floor(100 * total / (p * grossed))
        price = Decimal(hundredths) * PRICE_STEP
        if not MIN_PRICE <= price <= MAX_PRICE:
            return None
        prices[key] = price
    return prices


def overround(prices: dict[str, Decimal]) -> Fraction:
    """sum(1 / price) - 1, exactly: the book's margin."""
    return sum((1 / Fraction(price) for price in prices.values()), Fraction(0)) - 1


def rounding_allowance(prices: dict[str, Decimal]) -> Fraction:
    """The most that rounding each price down by under one step can have added to the overround:
    each exact price lies below `price + 0.01`, so its share lay above `1 / (price + 0.01)`."""
    step = Fraction(PRICE_STEP)
    return sum((1 / Fraction(price) - 1 / (Fraction(price) + step) for price in prices.values()), Fraction(0))
