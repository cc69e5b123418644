"""The in-play delay benchmark's arithmetic (bench/bet_delay.py): how its figures and its verdict
are read from the bets. No timing is asserted; the benchmark prints it."""

import math

from bench import bet_delay


def test_the_target_holds_only_when_every_bet_was_decided_within_50_ms_either_way():
    assert bet_delay.met([0.5, 12.0, 50.0], expected=3) is True
    assert bet_delay.met([0.5, 12.0, 50.1], expected=3) is False
    assert bet_delay.met([-50.1, 1.0, 1.0], expected=3) is False  # early counts as much as late
    assert bet_delay.met([0.5, 12.0], expected=3) is False  # a bet never decided misses it


def test_the_summary_gives_the_worst_distance_from_the_release():
    figures = bet_delay.summary([3.0, -7.0, 5.0, 1.0])

    assert (figures["n"], figures["min"], figures["max"], figures["worst"]) == (4, -7.0, 5.0, 7.0)
    assert figures["p50"] == 3.0
    assert math.isnan(bet_delay.summary([])["p50"])


def test_api_timestamps_read_with_their_offset():
    assert bet_delay.parse_time("2026-06-11T18:00:00.250000Z") == 1_781_200_800.25
    assert bet_delay.parse_time("2026-06-11T20:00:00.250000+02:00") == 1_781_200_800.25


def test_the_world_cup_replay_meets_its_target_only_at_100_percent_of_each_kind():
    from bench import worldcup_bets

    tally = {"unexpected": [], "before_goal": 30, "before_goal_rejected": 30, "while_suspended": 40,
             "while_suspended_refused": 40, "quiet": 9, "quiet_accepted": 9}  # fmt: skip
    assert worldcup_bets.met(tally) is True
    assert worldcup_bets.met({**tally, "before_goal_rejected": 29}) is False
    assert worldcup_bets.met({**tally, "quiet": 0, "quiet_accepted": 0}) is False  # none of a kind: nothing shown
    assert worldcup_bets.met({**tally, "unexpected": ["a bet"]}) is False
