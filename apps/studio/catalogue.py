"""The studio's games by code: what the commands, and later the lobby and the provider, look up
(docs/studio.md, "Catalogue").

A game is an object with `code`, `name`, `game_type` (one of games' `GameType` values, written out:
the studio imports nothing of the games app), `declared_rtp`, `enumerated_rtp()` (exact, from the
game's own tables) and `draw(rng)`: one outcome as the production code draws it, from the random
source alone (roulette: the pocket; a tuple for a game whose outcome has several parts).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import cache
from typing import Any, Protocol

from apps.studio import crash, roulette, slot
from apps.studio.rng import Rng


class Game(Protocol):
    code: str
    name: str
    game_type: str
    declared_rtp: Fraction

    def enumerated_rtp(self) -> Fraction: ...

    def return_variance(self) -> Fraction: ...

    def draw(self, rng: Rng) -> Any: ...


@dataclass(frozen=True)
class Roulette:
    code: str = "pam-roulette"
    name: str = "European Roulette"
    game_type: str = "table"
    declared_rtp: Fraction = roulette.DECLARED_RTP

    def enumerated_rtp(self) -> Fraction:
        return roulette.enumerated_rtp()

    def return_variance(self) -> Fraction:
        """The variance of a round's return per unit staked of the bet with the largest one,
        straight up (35:1 on 1 pocket of 37): 36²·(1/37) - (36/37)² = 46656/1369, sigma = 216/37 ≈ 5.84.
        Conservative: a player's real mix of bets (even money: sigma ≈ 1.0) varies less, so the drift
        band drawn with this sigma is the widest any mix needs, and a game outside it is outside for
        every mix."""
        return roulette.return_variance("straight")

    def draw(self, rng: Rng) -> int:
        return roulette.spin(rng)


GAMES: dict[str, Game] = {}


def register(game: Game) -> None:
    if game.code in GAMES:
        raise ValueError(f"game code {game.code!r} registered twice")
    GAMES[game.code] = game


def get(code: str) -> Game | None:
    return GAMES.get(code)


@dataclass(frozen=True)
class Slot:
    """A 5x3 ten-line slot from a reel-strip configuration (`slot.load`: refused at start-up when
    its declared RTP is off the enumerated one by more than 0.01 points)."""

    config: slot.SlotConfig
    code: str = "pam-slot"
    game_type: str = "slots"

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def declared_rtp(self) -> Fraction:
        return Fraction(self.config.declared_rtp_exact or self.config.declared_rtp)

    def enumerated_rtp(self) -> Fraction:
        return slot.enumerate_rtp(self.config)

    def return_variance(self) -> Fraction:
        """The exact variance of a spin's return per unit staked (`slot.enumerate_moments`)."""
        return slot.enumerate_variance(self.config)

    def draw(self, rng: Rng) -> tuple[int, ...]:
        return self.config.draw(rng)


@dataclass(frozen=True)
class Crash:
    """The multiplayer crash room: one outcome per round, from the hash chain (crash.py). Its RTP
    depends on the cash-out target only in the 13th decimal: `enumerated_rtp` is a cash-out at
    2.00x, counted exactly over the 2^52 values of r."""

    code: str = "pam-crash"
    name: str = "PAM Crash"
    game_type: str = "crash"
    declared_rtp: Fraction = crash.DECLARED_RTP

    def enumerated_rtp(self) -> Fraction:
        return crash.rtp(200)

    def draw(self, rng: Rng) -> int:
        return crash.draw(rng)


register(Roulette())
register(Slot(slot.load()))
register(Crash())


SIGMA_PLACES = 12


@cache
def expected_return(code: str) -> tuple[Fraction, Decimal]:
    """(declared RTP, sigma) of the game `code` per unit staked: the exact declared RTP, and the
    standard deviation of one round's return to 12 decimal places (the square root of the exact
    variance, which is rarely rational). What the games' catalogue records for the drift rule
    (docs/rtp.md). Raises KeyError for an unknown code. Cached: the slot's variance takes about a
    second to enumerate."""
    game = GAMES[code]
    variance = game.return_variance()
    with localcontext() as context:
        context.prec = 40
        sigma = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt()
    return game.declared_rtp, sigma.quantize(Decimal(1).scaleb(-SIGMA_PLACES))
