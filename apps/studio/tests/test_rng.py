import itertools
from collections import Counter

import pytest

from apps.studio import rng
from apps.studio.rng import Rng, SeededRng

from .stats import chi_square, p_value_even_df


class ScriptedRng(Rng):
    """Hands out the values it is given, and records how many bits each draw asked for."""

    def __init__(self, values):
        self.values = list(values)
        self.asked = []

    def randbits(self, k):
        self.asked.append(k)
        value = self.values.pop(0)
        assert 0 <= value < 2**k
        return value


def test_p_value_matches_known_critical_values():
    # Tables: chi-square critical values at p = 0.001 for 36 and 6 degrees of freedom.
    assert p_value_even_df(67.985, 36) == pytest.approx(0.001, rel=1e-3)
    assert p_value_even_df(22.458, 6) == pytest.approx(0.001, rel=1e-3)


def test_below_rejects_values_at_or_above_n_and_draws_again():
    source = ScriptedRng([7, 6, 5, 3])
    assert source.below(5) == 3
    assert source.asked == [3, 3, 3, 3]  # ceil(log2 5) = 3 bits, four draws: three rejected
    assert source.values == []


def test_below_maps_the_accepted_draws_one_to_one():
    """Exhaustive for every n up to 70: over every value of the first draw, each result in
    [0, n) comes from exactly one value and every other value is rejected (the second draw, 0,
    is taken instead): the accepted draws are uniform, so the result is."""
    for n in range(1, 71):
        bits = (n - 1).bit_length()
        accepted = Counter()
        for first in range(2**bits):
            source = ScriptedRng([first, 0]) if n > 1 else ScriptedRng([])
            result = source.below(n)
            assert 0 <= result < n
            if n == 1 or len(source.asked) == 1:
                accepted[result] += 1
            else:
                assert first >= n
                assert result == 0
        assert accepted == Counter(range(n)), n


@pytest.mark.parametrize("n", [0, -1])
def test_below_refuses_an_empty_range(n):
    with pytest.raises(ValueError, match="n >= 1"):
        rng.below(n)


def test_the_production_rng_stays_in_range():
    for n in (1, 2, 3, 37, 1000, 2**40 + 1):
        assert all(0 <= rng.below(n) < n for _ in range(200))
    assert len(rng.raw_bytes(0)) == 0
    assert len(rng.raw_bytes(4097)) == 4097


def test_fisher_yates_reaches_every_permutation_exactly_once_over_every_draw():
    """Every sequence of `below` answers (3 then 2 choices) gives a different order: six in all."""
    seen = Counter()
    for j2, j1 in itertools.product(range(3), range(2)):
        items = ["a", "b", "c"]
        bits = iter([j2, j1])
        source = ScriptedRng([])
        source.below = lambda n, bits=bits: next(bits)
        source.shuffle(items)
        seen[tuple(items)] += 1
    assert seen == Counter(itertools.permutations("abc"))


def test_fisher_yates_with_a_seeded_rng_is_uniform_over_the_permutations():
    source = SeededRng(2026)
    counts = Counter()
    for _ in range(60_000):
        items = ["a", "b", "c"]
        rng.shuffle(items, source)
        counts[tuple(items)] += 1
    assert set(counts) == set(itertools.permutations("abc"))
    statistic = chi_square([counts[p] for p in itertools.permutations("abc")], [10_000] * 6)
    # 5 degrees of freedom: refuse below p = 0.001 (critical value 20.515).
    assert statistic < 20.515


def test_a_seeded_rng_repeats_and_the_system_one_does_not():
    first, again = SeededRng(7), SeededRng(7)
    assert [first.below(1000) for _ in range(50)] == [again.below(1000) for _ in range(50)]
    assert rng.raw_bytes(32) != rng.raw_bytes(32)
