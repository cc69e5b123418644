import inspect
from collections import Counter
from fractions import Fraction

import pytest

from apps.studio import catalogue, rng, roulette
from apps.studio.rng import SeededRng
from apps.studio.roulette import InvalidBet, bet, settle, spin

from .stats import chi_square, p_value_even_df, significant_twice

FORBIDDEN_INPUTS = {"stake", "stakes", "bet", "bets", "amount", "balance", "history", "takings", "player"}


def test_the_wheel():
    assert roulette.colour(0) == "green"
    assert len(roulette.RED) == len(roulette.BLACK) == 18
    assert roulette.colour(1) == "red"
    assert roulette.colour(2) == "black"
    assert roulette.colour(36) == "red"
    assert roulette.colour(10) == "black"
    assert roulette.colour(19) == "red"


@pytest.mark.parametrize("kind", sorted(roulette.BETS))
def test_every_bet_kind_returns_exactly_36_of_37(kind):
    assert roulette.rtp(kind) == Fraction(36, 37)
    for numbers in roulette.BETS[kind][0]:
        assert roulette.bet_rtp(roulette.Bet(kind, numbers, 5)) == Fraction(36, 37)


def test_the_game_declares_what_it_enumerates():
    assert roulette.DECLARED_RTP == roulette.enumerated_rtp() == Fraction(36, 37)
    game = catalogue.get("pam-roulette")
    assert (game.code, game.game_type) == ("pam-roulette", "table")
    assert game.declared_rtp == game.enumerated_rtp() == Fraction(36, 37)
    assert catalogue.get("no-such-game") is None


def test_the_layout_counts():
    counts = {kind: len(placements) for kind, (placements, _) in roulette.BETS.items()}
    # 57 splits on the numbers and three with zero; 12 streets and two trios; 22 corners and
    # the first four.
    assert counts["straight"] == 37
    assert counts["split"] == 60
    assert counts["street"] == 14
    assert counts["corner"] == 23
    assert counts["six_line"] == 11
    assert counts["column"] == counts["dozen"] == 3


@pytest.mark.parametrize(
    ("kind", "numbers", "pays"),
    [
        ("straight", [17], 35),
        ("straight", [0], 35),
        ("split", [17, 20], 17),
        ("split", [8, 9], 17),
        ("split", [0, 2], 17),
        ("street", [16, 17, 18], 11),
        ("street", [0, 1, 2], 11),
        ("corner", [17, 18, 20, 21], 8),
        ("corner", [0, 1, 2, 3], 8),
        ("six_line", [13, 14, 15, 16, 17, 18], 5),
        ("column", 2, 2),
        ("dozen", 2, 2),
        ("red", None, 1),
        ("odd", None, 1),
        ("low", None, 1),
    ],
)
def test_a_winning_bet_returns_its_stake_and_payout(kind, numbers, pays):
    placed = bet(kind, numbers, stake=250)
    pocket = min(placed.numbers)
    assert settle(placed, pocket) == 250 * (pays + 1)
    losing = next(p for p in roulette.POCKETS if p not in placed.numbers)
    assert settle(placed, losing) == 0


def test_the_outside_bets_cover_what_they_say_and_lose_on_zero():
    assert bet("column", 1).numbers == frozenset(range(1, 37, 3))
    assert bet("column", 3).numbers == frozenset(range(3, 37, 3))
    assert bet("dozen", 3).numbers == frozenset(range(25, 37))
    assert bet("even").numbers == frozenset(range(2, 37, 2))
    assert bet("high").numbers == frozenset(range(19, 37))
    assert bet("black").numbers == roulette.BLACK
    for kind in ("red", "black", "odd", "even", "low", "high"):
        assert settle(bet(kind, stake=10), 0) == 0


@pytest.mark.parametrize(
    ("kind", "numbers", "stake"),
    [
        ("basket", [0, 1], 1),  # not a kind
        ("straight", [37], 1),
        ("straight", [-1], 1),
        ("straight", [1, 2], 1),
        ("straight", [True], 1),
        ("straight", 5, 1),  # a straight names its number in a list
        ("split", [3, 4], 1),  # 3 ends a row, 4 starts the next
        ("split", [1, 5], 1),
        ("split", [0, 4], 1),
        ("split", [5], 1),
        ("street", [2, 3, 4], 1),
        ("street", [0, 1, 3], 1),
        ("corner", [3, 4, 6, 7], 1),  # across the edge of the layout
        ("corner", [1, 2, 3, 4], 1),
        ("six_line", [2, 3, 4, 5, 6, 7], 1),
        ("six_line", [34, 35, 36, 37, 38, 39], 1),
        ("column", 0, 1),
        ("column", 4, 1),
        ("column", True, 1),
        ("dozen", [1], 1),
        ("red", [1], 1),
        ("straight", [1], 0),
        ("straight", [1], -5),
        ("straight", [1], 1.5),
        ("straight", [1], True),
    ],
)
def test_a_bet_the_layout_does_not_allow_is_refused(kind, numbers, stake):
    with pytest.raises(InvalidBet) as refused:
        bet(kind, numbers, stake=stake)
    assert refused.value.code == "INVALID_BET"


def test_no_outcome_function_sees_a_stake_or_a_balance():
    for function in (spin, rng.below, rng.shuffle, rng.Rng.below, rng.Rng.shuffle, catalogue.Roulette.draw):
        assert not FORBIDDEN_INPUTS & set(inspect.signature(function).parameters), function
    assert list(inspect.signature(spin).parameters) == ["rng"]


def test_outcomes_are_the_same_at_every_stake():
    """Three stake levels x 10^5 rounds, each from the same seed: the same pockets in the same
    order, so the same distribution; the stake changes only what `settle` pays."""
    sequences, returned = {}, {}
    for stake in (10, 1_000, 100_000):
        source = SeededRng(16)
        placed = [bet("straight", [17], stake=stake), bet("red", stake=stake)]
        rounds = [roulette.play(placed, source) for _ in range(100_000)]
        sequences[stake] = [pocket for pocket, _ in rounds]
        returned[stake] = sum(total for _, total in rounds)
    assert sequences[10] == sequences[1_000] == sequences[100_000]
    assert set(Counter(sequences[10])) == set(roulette.POCKETS)
    assert returned[1_000] == 100 * returned[10]
    assert returned[100_000] == 100 * returned[1_000]


def test_the_production_wheel_is_the_same_at_every_stake():
    """The production RNG over three stake levels x 10^5 rounds: a chi-square test of homogeneity
    of the three pocket distributions (2 x 36 = 72 degrees of freedom) at p < 0.001, repeated on a
    fresh sample before the wheel is blamed (`significant_twice`)."""

    def p_value():
        tables = {}
        for stake in (10, 1_000, 100_000):
            placed = [bet("dozen", 2, stake=stake)]
            tables[stake] = Counter(roulette.play(placed)[0] for _ in range(100_000))
        total = Counter()
        for counts in tables.values():
            total.update(counts)
        observed, expected = [], []
        for counts in tables.values():
            for pocket in roulette.POCKETS:
                observed.append(counts[pocket])
                expected.append(total[pocket] / len(tables))
        return p_value_even_df(chi_square(observed, expected), 72)

    assert not significant_twice(p_value)


def test_a_million_production_spins_are_uniform():
    """Chi-square over 10^6 spins of the production RNG against 1/37 each: 36 degrees of freedom,
    p < 0.001 (the statistic over the critical value 67.985) on this sample and on a fresh one
    before the wheel is blamed: a fair wheel fails one sample in a thousand, both one in a
    million."""

    def p_value():
        counts = Counter(spin() for _ in range(1_000_000))
        statistic = chi_square([counts[p] for p in roulette.POCKETS], [1_000_000 / 37] * 37)
        assert (statistic < 67.985) == (p_value_even_df(statistic, 36) > 0.001)
        return p_value_even_df(statistic, 36)

    assert not significant_twice(p_value)
