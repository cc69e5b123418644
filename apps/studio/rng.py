"""The studio's random numbers: the operating system's CSPRNG, an unbiased range reduction and
Fisher-Yates shuffles (docs/studio.md, "RNG").

Every outcome of every game is drawn through an `Rng`. Its only source of randomness is
`randbits(k)`; `below` and `shuffle` are built on it, so a test can hand a game a deterministic
source (`SeededRng`) or a scripted one and know exactly what the game does with it. No function
here, or any game's outcome function, takes a stake, a balance, the player's history or the
operator's takings: an outcome cannot depend on what it does not see (UKGC RTS 7A).
"""

from __future__ import annotations

import random
import secrets


class Rng:
    """A source of random bits, and the draws the games make from it."""

    def randbits(self, k: int) -> int:
        """A uniform integer in [0, 2**k)."""
        raise NotImplementedError

    def below(self, n: int) -> int:
        """A uniform integer in [0, n), by rejection sampling: draw the fewest bits that can hold
        n - 1 and draw again while the value is n or more. A modulo would favour the low values
        whenever n is not a power of two; a rejected draw costs fewer than two draws on average
        (at most half the values of k bits are ever rejected)."""
        if n < 1:
            raise ValueError("below(n) needs n >= 1")
        if n == 1:
            return 0
        k = (n - 1).bit_length()
        while True:
            value = self.randbits(k)
            if value < n:
                return value

    def shuffle(self, items: list) -> None:
        """Fisher-Yates in place: each of the n! orders equally likely, given an unbiased `below`."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def raw_bytes(self, n: int) -> bytes:
        """n random bytes, for the external test batteries (`rng_dump --bytes`)."""
        return self.randbits(8 * n).to_bytes(n, "little") if n else b""


class SystemRng(Rng):
    """Production: the operating system's CSPRNG through `secrets` (no seed, no state of ours)."""

    def randbits(self, k: int) -> int:
        return secrets.randbits(k) if k else 0

    def raw_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)


class SeededRng(Rng):
    """A deterministic source for tests and simulations ONLY: Python's Mersenne Twister from a
    seed, so that a run can be repeated. Never draws a real round's outcome (it is predictable)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)  # noqa: S311 - deterministic on purpose, never in production

    def randbits(self, k: int) -> int:
        return self._random.getrandbits(k) if k else 0


# The one production source: every real outcome is drawn from it.
SYSTEM = SystemRng()


def below(n: int, rng: Rng = SYSTEM) -> int:
    return rng.below(n)


def shuffle(items: list, rng: Rng = SYSTEM) -> None:
    rng.shuffle(items)


def raw_bytes(n: int, rng: Rng = SYSTEM) -> bytes:
    return rng.raw_bytes(n)
