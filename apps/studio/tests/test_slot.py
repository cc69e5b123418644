"""The slot's maths: exact enumeration against brute force, the loader's refusals, line wins,
and a seeded simulation within the exact standard error. No database."""

import itertools
import json
import math
import random
from fractions import Fraction

import pytest

from apps.studio import slot

LINES = [
    [1, 1, 1, 1, 1],
    [0, 0, 0, 0, 0],
    [2, 2, 2, 2, 2],
    [0, 1, 2, 1, 0],
    [2, 1, 0, 1, 2],
    [1, 0, 0, 0, 1],
    [1, 2, 2, 2, 1],
    [0, 0, 1, 2, 2],
    [2, 2, 1, 0, 0],
    [1, 2, 1, 0, 1],
]


class SeededRng:
    """The studio RNG's interface (``below``) over a seeded generator, for reproducible runs."""

    def __init__(self, seed):
        self._random = random.Random(seed)

    def below(self, n):
        return self._random.randrange(n)


def tiny(wild):
    """Strips of 3 to 5 stops, small enough to walk every stop combination."""
    reels = [
        ["A", "B", "W", "C"],
        ["A", "W", "B"],
        ["B", "A", "C", "W", "A"],
        ["A", "C", "B", "W"],
        ["W", "A", "B"],
    ]
    paytable = {
        "A": {"3": 2, "4": 5, "5": 20},
        "B": {3: 3, 4: 8, 5: 30},
        "C": {3: 1, 4: 4, 5: 10},
        "W": {3: 10, 4: 40, 5: 200},
    }
    data = {"reels": reels, "paylines": LINES, "paytable": paytable}
    if wild:
        data["wild"] = "W"
    return slot.parse(data, min_stops=3)


def brute_force(config):
    """Every stop combination played through outcome() and line_wins(): (mean, variance)."""
    stake = len(config.paylines)
    total = 0
    total_sq = 0
    for stops in itertools.product(*(range(len(strip)) for strip in config.reels)):
        win = sum(w.amount for w in config.line_wins(config.outcome(stops), 1))
        total += win
        total_sq += win * win
    mean = Fraction(total, config.cycle * stake)
    second = Fraction(total_sq, config.cycle * stake * stake)
    return mean, second - mean * mean


@pytest.mark.parametrize("wild", [False, True])
def test_enumeration_equals_brute_force_on_tiny_strips(wild):
    config = tiny(wild)
    mean, variance = brute_force(config)
    assert mean > 0
    assert slot.enumerate_rtp(config) == mean
    assert slot.enumerate_moments(config) == (mean, variance)
    assert slot.enumerate_variance(config) == variance


def test_the_wild_changes_the_tiny_rtp():
    # Guards the brute-force test against a wild that is silently ignored.
    assert slot.enumerate_rtp(tiny(True)) != slot.enumerate_rtp(tiny(False))


def test_default_config_loads_with_its_exact_declared_rtp():
    config = slot.load()
    rtp = slot.enumerate_rtp(config)
    assert Fraction(config.declared_rtp_exact) == rtp
    assert abs(Fraction(config.declared_rtp) - rtp) < Fraction(1, 10**6)
    assert Fraction(94, 100) <= rtp <= Fraction(97, 100)
    assert len(config.reels) == 5
    assert all(20 <= len(strip) <= 40 for strip in config.reels)
    assert len(config.paylines) == 10


def default_data():
    with open(slot.DEFAULT_CONFIG_PATH, encoding="utf-8") as handle:
        return json.load(handle)


def test_declared_rtp_off_by_two_hundredths_of_a_point_is_refused():
    data = default_data()
    del data["declared_rtp_exact"]
    rtp = Fraction(data["declared_rtp"])
    data["declared_rtp"] = f"{float(rtp + Fraction(2, 10_000)):.6f}"
    with pytest.raises(ValueError, match=r"0\.01 percentage points"):
        slot.load(data)
    # Half a hundredth of a point is within tolerance.
    data["declared_rtp"] = f"{float(rtp + Fraction(5, 100_000)):.6f}"
    slot.load(data)


def test_a_wrong_exact_declared_rtp_is_refused():
    data = default_data()
    num, den = map(int, data["declared_rtp_exact"].split("/"))
    data["declared_rtp_exact"] = f"{num + 1}/{den}"
    with pytest.raises(ValueError, match="exact RTP"):
        slot.load(data)


def test_a_missing_declared_rtp_is_refused():
    data = default_data()
    del data["declared_rtp"]
    with pytest.raises(ValueError, match="declare its RTP"):
        slot.load(data)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["reels"].pop(), "exactly 5 reel strips"),
        (lambda d: d["reels"].__setitem__(0, d["reels"][0][:10]), "10 stops"),
        (lambda d: d["reels"].__setitem__(0, d["reels"][0] * 2), "60 stops"),
        (lambda d: d["paylines"].pop(), "exactly 10 paylines"),
        (lambda d: d["paylines"].__setitem__(3, [0, 1, 3, 1, 0]), "row indexes must be"),
        (lambda d: d["paylines"].__setitem__(3, [0, 1, 2, 1]), "5 row indexes"),
        (lambda d: d["paylines"].__setitem__(3, [1, 1, 1, 1, 1]), "distinct"),
        (lambda d: d["paytable"].__setitem__("STAR", {"3": 1}), "'STAR', which is on no reel"),
        (lambda d: d["paytable"]["BAR"].__setitem__("2", 1), "run length 2"),
        (lambda d: d["paytable"]["BAR"].__setitem__("3", 1.5), "whole multiplier"),
        (lambda d: d["paytable"]["BAR"].__setitem__("3", -1), "whole multiplier"),
        (lambda d: d.__setitem__("wild", "JOKER"), "wild symbol 'JOKER'"),
        (lambda d: d.__setitem__("rows", 4), "3 visible rows"),
        (lambda d: d.__setitem__("declared_rtp", "ninety"), "not a number"),
    ],
)
def test_malformed_configs_are_refused(mutate, message):
    data = default_data()
    mutate(data)
    with pytest.raises(ValueError, match=message):
        slot.load(data)


def test_outcome_reads_three_rows_down_the_strip_wrapping():
    config = slot.load()
    last = [len(strip) - 1 for strip in config.reels]
    window = config.outcome(last)
    for reel, strip in enumerate(config.reels):
        assert [window[row][reel] for row in range(3)] == [strip[-1], strip[0], strip[1]]
    with pytest.raises(ValueError, match="expected 5 stops"):
        config.outcome([0, 0, 0, 0])
    with pytest.raises(ValueError, match="out of range"):
        config.outcome([0, 0, 0, 0, len(config.reels[4])])


def test_draw_takes_one_stop_per_reel_from_the_rng():
    config = slot.load()

    class Recording:
        def __init__(self):
            self.asked = []

        def below(self, n):
            self.asked.append(n)
            return n - 1

    rng = Recording()
    assert config.draw(rng) == tuple(len(strip) - 1 for strip in config.reels)
    assert rng.asked == [len(strip) for strip in config.reels]


def window_of(*rows):
    return tuple(tuple(row.split()) for row in rows)


def test_line_wins():
    config = slot.load()
    pays = config.paytable
    # Middle line: wild substitutes for BAR; top: left-to-right only, the BELLs at the right
    # pay nothing; bottom: a line of wilds pays as the wild, better than 4 wild-backed PLUMs.
    window = window_of(
        "LEMON CHERRY BELL BELL BELL",
        "BAR WILD BAR BAR CHERRY",
        "WILD WILD WILD PLUM LEMON",
    )
    wins = {w.line: w for w in config.line_wins(window, 3)}
    assert wins[0] == slot.LineWin(0, "BAR", 4, pays["BAR"][4], pays["BAR"][4] * 3)
    assert 1 not in wins
    assert wins[2] == slot.LineWin(2, "WILD", 3, pays["WILD"][3], pays["WILD"][3] * 3)
    assert pays["WILD"][3] > pays["PLUM"][4]


def test_line_wins_best_pay_prefers_the_longer_symbol_run():
    config = slot.load()
    pays = config.paytable
    # Three wilds then two SEVENs: five SEVENs pay more than three wilds.
    window = window_of(
        "CHERRY CHERRY LEMON PLUM PLUM",
        "WILD WILD WILD SEVEN SEVEN",
        "LEMON LEMON CHERRY BELL BELL",
    )
    assert pays["SEVEN"][5] > pays["WILD"][3]
    [win] = [w for w in config.line_wins(window, 2) if w.line == 0]
    assert (win.symbol, win.count, win.amount) == ("SEVEN", 5, pays["SEVEN"][5] * 2)
    # A wild does not stand in for a broken run: SEVEN WILD BAR pays nothing.
    assert config.line_pay(["SEVEN", "WILD", "BAR", "BAR", "BAR"]) == (0, None, 0)
    # Five wilds pay the wild's own top entry.
    assert config.line_pay(["WILD"] * 5) == (pays["WILD"][5], "WILD", 5)


def test_seeded_simulation_lands_within_four_sigma():
    config = slot.load()
    mean, variance = slot.enumerate_moments(config)
    rounds = 200_000
    rng = SeededRng(1)
    won = sum(config.spin_multiplier(config.draw(rng)) for _ in range(rounds))
    observed = Fraction(won, rounds * len(config.paylines))
    sigma = math.sqrt(variance)
    assert abs(float(observed - mean)) <= 4 * sigma / math.sqrt(rounds)


def test_spin_multiplier_matches_line_wins():
    config = slot.load()
    rng = SeededRng(7)
    for _ in range(2_000):
        stops = config.draw(rng)
        wins = config.line_wins(config.outcome(stops), 1)
        assert config.spin_multiplier(stops) == sum(w.amount for w in wins)
