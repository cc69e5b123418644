"""The crash game's maths (apps/studio/crash.py): known vectors, the exact distribution and RTP
against brute force, the chain, and the growth's crash moment."""

import hashlib
import hmac
from fractions import Fraction
from io import StringIO

import pytest
from django.core.management import call_command

from apps.studio import catalogue, crash
from apps.studio.rng import SYSTEM, SeededRng

E = 2**52


def independent_crash(seed: bytes) -> int:
    """The protocol's words, restated without crash.py."""
    digest = hmac.new(seed, b"pam-crash", hashlib.sha256).hexdigest()
    r = int(digest[:13], 16)
    return 100 if r % 33 == 0 else (100 * E - r) // (E - r)


def test_known_vectors():
    seed = hashlib.sha256(b"pam-crash test vector").digest()
    assert seed.hex() == "afa26409cafc2139e8ed0d8a23afcc3b3e32ef6da0a04c742d5d6e95c1c6d52e"
    assert crash.r_of(seed) == int("a09cec7ccba22", 16) == 2825533487102498
    assert crash.crash_point(seed) == 266 == independent_crash(seed)
    instant = bytes.fromhex("ee8616502dd081f3f250cdef1b5f1c40a7be6b5eedd5936f26dccb2c5e312131")
    assert crash.r_of(instant) % 33 == 0
    assert crash.crash_point(instant) == 100
    # The formula at its ends and middle.
    assert crash.crash_of_r(0) == 100  # a multiple of 33
    assert crash.crash_of_r(1) == 100
    assert crash.crash_of_r(2**51) == 199  # 2^51 % 33 == 2
    assert crash.crash_of_r(E - 1) == 99 * E + 1  # (E - 1) % 33 == 3


def test_crash_point_matches_the_independent_statement():
    rng = SeededRng(7)
    for _ in range(2000):
        seed = rng.raw_bytes(32)
        assert crash.crash_point(seed) == independent_crash(seed)


@pytest.mark.parametrize("e", [2**10, 2**12 + 5, 33 * 97])
def test_exact_counts_equal_a_brute_force_walk(e):
    points = [crash.crash_of_r(r, e) for r in range(e)]
    for m in [*range(95, 260), 1000, 5000, 100 * e, 100 * e + 1]:
        assert crash.count_at_least(m, e) == sum(p >= m for p in points), m
    for target in [100, 101, 150, 199, 200, 333, 1000, 4000]:
        brute = Fraction(sum(target for p in points if p > target), 100 * e)
        assert crash.rtp(target, e) == brute, target


def test_the_distribution_and_the_rtp():
    # P(crash >= m) = (32/33) * 99/(m - 1) up to one r in 2^52: about (32/33) * 100/m.
    for m in [101, 150, 200, 1000, 10_000, 1_000_000]:
        p = crash.probability_at_least(m)
        assert abs(p - Fraction(32, 33) * Fraction(99, m - 1)) < Fraction(1, 2**50)
        assert abs(p / (Fraction(32, 33) * Fraction(100, m)) - 1) < Fraction(1, 100)
    assert crash.probability_at_least(100) == 1
    # Every cash-out target up to 200.00x returns 24/25 to 12 decimals; up to 10,000.00x to 8.
    for target in [100, 101, 150, 200, 1000, 12_345, 20_000]:
        assert abs(crash.rtp(target) - crash.DECLARED_RTP) < Fraction(1, 10**12), target
    assert abs(crash.rtp(1_000_000) - crash.DECLARED_RTP) < Fraction(1, 10**8)
    game = catalogue.get("pam-crash")
    assert (game.game_type, game.declared_rtp) == ("crash", Fraction(24, 25))
    assert game.enumerated_rtp() == crash.rtp(200) == Fraction(200 * crash.count_at_least(201), 100 * E)


def test_production_draws_follow_the_distribution():
    draws = [catalogue.get("pam-crash").draw(SYSTEM) for _ in range(60_000)]
    assert min(draws) == 100
    for m in [101, 200, 1000]:
        p = float(crash.probability_at_least(m))
        seen = sum(d >= m for d in draws) / len(draws)
        sigma = (p * (1 - p) / len(draws)) ** 0.5
        assert abs(seen - p) < 5 * sigma, (m, seen, p)  # fails about once in 1.7 million runs


def test_the_chain():
    terminal = bytes(range(32))
    length = 2500
    seeds = crash.ChainSeeds(terminal, length, step=1000)
    assert seeds.commitment == crash.commitment(terminal, length) == crash.hash_times(terminal, length).hex()
    order = [*range(length, -1, -1), 7, 2400, 1000, 1001, 999, 0, 2500, 1]
    for k in order:
        assert seeds.seed(k) == crash.hash_times(terminal, length - k), k
    for k in [1, 2, 1000, 1001, 2500]:
        assert crash.seed_links(seeds.seed(k), seeds.seed(k - 1))
        assert crash.seed_reaches_commitment(seeds.seed(k), k, seeds.commitment)
    assert not crash.seed_reaches_commitment(seeds.seed(5), 4, seeds.commitment)
    assert not crash.seed_links(seeds.seed(5), seeds.seed(3))
    with pytest.raises(IndexError):
        seeds.seed(length + 1)
    assert len(crash.new_terminal_seed()) == 32
    assert crash.new_terminal_seed() != crash.new_terminal_seed()


@pytest.mark.parametrize("growth", [0.00006, 0.06])
def test_the_crash_moment_is_the_first_ms_the_multiplier_reaches_the_point(growth):
    assert crash.multiplier_at(0, growth) == 100
    assert crash.crash_ms(100, growth) == 0
    for point in [*range(101, 400), 1000, 12_345, 10**6, 99 * E + 1]:
        t = crash.crash_ms(point, growth)
        assert crash.multiplier_at(t, growth) >= point > crash.multiplier_at(t - 1, growth), point
    assert crash.multiplier_at(11_553) == 200 > crash.multiplier_at(11_552)
    # A round looked at long after its crash moment: above every crash point, no float overflow.
    assert crash.multiplier_at(10**9, growth) > 99 * E + 1


def test_a_win_is_the_stake_times_the_multiplier_rounded_down():
    assert crash.win_of(100, 157) == 157
    assert crash.win_of(33, 150) == 49
    assert crash.win_of(1, 199) == 1


def test_the_commands_know_the_crash_game(tmp_path):
    out = StringIO()
    call_command("game_rtp", "pam-crash", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[-1].endswith(" 0.9600000000")
    assert lines[-1].split()[0] == f"{crash.rtp(200).numerator}/{crash.rtp(200).denominator}"
    path = tmp_path / "crash.txt"
    call_command("rng_dump", "--game", "pam-crash", "--rounds", "3000", str(path))
    points = [int(line) for line in path.read_text().splitlines()]
    assert len(points) == 3000
    assert min(points) >= 100
    assert max(points) > 1000
