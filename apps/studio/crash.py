"""The crash game's public maths (docs/crash-room.md): the hash chain of seeds committed before the
first round, the crash point of a seed, the multiplier's growth, and the exact RTP of a cash-out
target. Pure functions: no database, no clock, no settings, so a player can run the very same code.

Multipliers are integers in hundredths everywhere (`*_x100`: 100 is 1.00x) and money is integer
minor units: a win is `stake * cashout_x100 // 100`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from fractions import Fraction

from apps.studio.rng import Rng

SEED_BYTES = 32
HMAC_MESSAGE = b"pam-crash"
E = 2**52  # r is the first 52 bits of the HMAC: uniform in [0, E)
INSTANT_EVERY = 33  # r % 33 == 0 crashes at 1.00x: the house edge, one round in 33
DEFAULT_GROWTH = 0.00006  # per ms: 2.00x after about 11.55 s
# 24/25: (32/33 that do not crash at once) x (99/100 that the formula keeps); each target's exact
# RTP (`rtp`) is within 1e-12 of it from a cash-out at 1.00x to one at 200.00x (1e-8 to 10,000x).
DECLARED_RTP = Fraction(24, 25)


# --- The chain -----------------------------------------------------------------------------------


def new_terminal_seed() -> bytes:
    """s_N: from the operating system's CSPRNG. Never shown: every other seed derives from it."""
    return secrets.token_bytes(SEED_BYTES)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash_times(seed: bytes, times: int) -> bytes:
    """SHA-256 applied `times` times (0: the seed itself)."""
    for _ in range(times):
        seed = hashlib.sha256(seed).digest()
    return seed


def commitment(terminal: bytes, length: int) -> str:
    """s_0 = SHA-256^N(s_N), hex: published before round 1 of the chain is played."""
    return hash_times(terminal, length).hex()


def seed_links(seed: bytes, previous: bytes) -> bool:
    """SHA-256(s_k) = s_{k-1}: a round's seed against the round before it in the chain."""
    return hmac.compare_digest(sha256(seed), previous)


def seed_reaches_commitment(seed: bytes, index: int, commitment_hex: str) -> bool:
    """SHA-256^k(s_k) = s_0."""
    return hmac.compare_digest(hash_times(seed, index).hex(), commitment_hex)


class ChainSeeds:
    """The seeds of one chain by index, without hashing N - k times for each round: one pass from
    s_N keeps every `step`-th seed (a checkpoint), and a round's seed is hashed down from the
    checkpoint above it; the segment last asked for is kept whole, as rounds go forward in it."""

    def __init__(self, terminal: bytes, length: int, step: int = 1000) -> None:
        self.length = length
        self.step = step
        self._checkpoints: dict[int, bytes] = {}
        seed = terminal
        for index in range(length, -1, -1):
            if index % step == 0 or index == length:
                self._checkpoints[index] = seed
            seed = sha256(seed)
        self._segment_top = -1
        self._segment: list[bytes] = []  # seeds of indexes segment_top, segment_top - 1, ...

    @property
    def commitment(self) -> str:
        return self._checkpoints[0].hex()

    def seed(self, index: int) -> bytes:
        if not 0 <= index <= self.length:
            raise IndexError(f"seed {index} is outside the chain 0..{self.length}")
        top = min(self.length, -(-index // self.step) * self.step)
        if top != self._segment_top:
            seeds, seed = [], self._checkpoints[top]
            for _ in range(top, max(top - self.step, -1), -1):
                seeds.append(seed)
                seed = sha256(seed)
            self._segment_top, self._segment = top, seeds
        return self._segment[self._segment_top - index]


# --- The crash point -----------------------------------------------------------------------------


def r_of(seed: bytes) -> int:
    """The first 52 bits of HMAC-SHA256(key = the seed, message = b"pam-crash")."""
    return int(hmac.new(seed, HMAC_MESSAGE, hashlib.sha256).hexdigest()[:13], 16)


def crash_of_r(r: int, e: int = E) -> int:
    if r % INSTANT_EVERY == 0:
        return 100
    return (100 * e - r) // (e - r)


def crash_point(seed: bytes) -> int:
    """The round's crash point in hundredths (100 = 1.00x)."""
    return crash_of_r(r_of(seed))


def draw(rng: Rng) -> int:
    """The crash point of a fresh random seed (the catalogue's `draw`, for `rng_dump`)."""
    return crash_point(rng.raw_bytes(SEED_BYTES))


# --- Exact RTP -----------------------------------------------------------------------------------


def first_r_at_least(m: int, e: int = E) -> int:
    """The least r whose formula value reaches m (m > 100): floor((100e - r) / (e - r)) >= m
    exactly when r(m - 1) >= (m - 100)e; the value grows with r."""
    return -(-(m - 100) * e // (m - 1))


def count_at_least(m: int, e: int = E) -> int:
    """How many r in [0, e) crash at m hundredths or later (exact)."""
    if m <= 100:
        return e
    first = first_r_at_least(m, e)
    if first >= e:
        return 0
    multiples_of_33 = (e + INSTANT_EVERY - 1) // INSTANT_EVERY - (first + INSTANT_EVERY - 1) // INSTANT_EVERY
    return (e - first) - multiples_of_33


def probability_at_least(m: int, e: int = E) -> Fraction:
    """P(crash >= m), exact."""
    return Fraction(count_at_least(m, e), e)


def rtp(target_x100: int, e: int = E) -> Fraction:
    """The exact return per unit staked of cashing out at `target_x100`: a cash-out is accepted
    only while the multiplier is below the crash point, so it pays target/100 when the round
    crashes at target + 1 or later, and nothing otherwise."""
    if target_x100 < 100:
        raise ValueError("a cash-out target is at least 100 (1.00x)")
    return Fraction(target_x100 * count_at_least(target_x100 + 1, e), 100 * e)


# --- Growth --------------------------------------------------------------------------------------


# Past exp(50) the multiplier is above every crash point (the largest is 99 * 2^52 + 1, about
# 100 * exp(35.7)): it stops growing there instead of overflowing a float (a round left running
# by a dead leader, looked at minutes later).
MAX_EXPONENT = 50.0


def multiplier_at(elapsed_ms: int, growth: float = DEFAULT_GROWTH) -> int:
    """floor(100 * exp(growth * t)) hundredths, t ms after the start."""
    if elapsed_ms <= 0:
        return 100
    return math.floor(100 * math.exp(min(growth * elapsed_ms, MAX_EXPONENT)))


def crash_ms(crash_x100: int, growth: float = DEFAULT_GROWTH) -> int:
    """The first whole ms at which the multiplier reaches the crash point: when the round ends."""
    if crash_x100 <= 100:
        return 0
    t = max(0, math.ceil(math.log(crash_x100 / 100) / growth))
    for _ in range(64):  # the float estimate is off by a step or two at most
        if t > 0 and multiplier_at(t - 1, growth) >= crash_x100:
            t -= 1
        elif multiplier_at(t, growth) < crash_x100:
            t += 1
        else:
            return t
    raise ArithmeticError(f"no crash time found near {t} ms for {crash_x100}")


def win_of(stake: int, cashout_x100: int) -> int:
    return stake * cashout_x100 // 100
