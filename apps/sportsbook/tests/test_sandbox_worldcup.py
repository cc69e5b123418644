"""The vendored 2022 World Cup: every match and goal of the tournament, in UTC, with the
stoppage-time, extra-time and shoot-out details that the sandbox feed replays."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.sportsbook.sandbox import worldcup
from apps.sportsbook.sandbox.worldcup import AWAY, HOME, Goal, derive_from_openfootball, load_matches

SANDBOX = Path(worldcup.__file__).parent


def by_teams(home: str, away: str) -> worldcup.Match:
    (match,) = [m for m in load_matches() if (m.home, m.away) == (home, away)]
    return match


def test_the_tournament_has_64_matches_and_172_goals():
    matches = load_matches()

    assert len(matches) == 64
    assert [m.number for m in matches] == list(range(1, 65))
    assert sum(not m.knockout for m in matches) == 48
    # 172 is the tournament's count: extra time included, shoot-outs not.
    assert sum(len(m.goals) for m in matches) == 172
    assert sum(sum(m.ft) for m in matches) == 172 - 4  # the four goals of extra time


def test_matches_are_in_kickoff_order_in_utc():
    matches = load_matches()

    assert [m.kickoff for m in matches] == sorted(m.kickoff for m in matches)
    assert (matches[0].home, matches[0].away) == ("Qatar", "Ecuador")
    # 19:00 in Doha; the final's 18:00 in Doha.
    assert matches[0].kickoff == datetime(2022, 11, 20, 16, 0, tzinfo=UTC)
    assert (matches[-1].home, matches[-1].away, matches[-1].round) == ("Argentina", "France", "Final")
    assert matches[-1].kickoff == datetime(2022, 12, 18, 15, 0, tzinfo=UTC)


def test_stoppage_time_goals_keep_their_added_minutes():
    england_iran = by_teams("England", "Iran")

    assert england_iran.ft == (6, 2)
    assert [g.label for g in england_iran.goals] == ["35'", "43'", "45+1'", "62'", "65'", "71'", "90'", "90+13'"]
    assert england_iran.goals[-1] == Goal(
        team=AWAY, minute=90, added=13, scorer="Mehdi Taremi", penalty=True, own_goal=False
    )
    assert england_iran.score(up_to_minute=45) == (3, 0)


def test_the_final_went_to_extra_time_and_penalties():
    final = by_teams("Argentina", "France")

    assert final.knockout
    assert final.ft == (2, 2)
    assert final.score() == (3, 3)
    assert final.penalties == (4, 2)
    assert final.went_to_extra_time
    assert final.qualified == HOME
    assert [(g.label, g.team) for g in final.goals if not g.in_regulation] == [("108'", HOME), ("118'", AWAY)]


def test_five_knockout_matches_were_decided_on_penalties_and_no_group_match_has_a_winner_to_qualify():
    matches = load_matches()

    shoot_outs = [(m.home, m.away, m.penalties, m.qualified) for m in matches if m.penalties]
    assert shoot_outs == [
        ("Japan", "Croatia", (1, 3), AWAY),
        ("Morocco", "Spain", (3, 0), HOME),
        ("Croatia", "Brazil", (4, 2), HOME),
        ("Netherlands", "Argentina", (3, 4), AWAY),
        ("Argentina", "France", (4, 2), HOME),
    ]
    assert {m.qualified for m in matches if not m.knockout} == {None}
    assert all(m.went_to_extra_time == bool(m.penalties) for m in matches)


def test_an_own_goal_counts_for_the_side_it_was_scored_for():
    canada_morocco = by_teams("Canada", "Morocco")

    (own_goal,) = [g for g in canada_morocco.goals if g.own_goal]
    assert (own_goal.team, own_goal.scorer, own_goal.minute) == (HOME, "Nayef Aguerd", 40)
    assert canada_morocco.ft == (1, 2)


def test_half_time_scores_are_recomputed_from_the_goals():
    """openfootball's `ht` says 0-0 for Japan-Spain, though Morata scored for Spain at 11'."""
    japan_spain = by_teams("Japan", "Spain")

    assert japan_spain.score(up_to_minute=45) == (0, 1)


def test_openfootball_matches_are_derived_into_utc_ordered_rows():
    source = {
        "name": "World Cup 2022",
        "matches": [
            {
                "round": "Final",
                "date": "2022-12-18",
                "time": "18:00",
                "team1": "Argentina",
                "team2": "France",
                "score": {"p": [4, 2], "et": [2, 2], "ft": [1, 1], "ht": [1, 0]},
                "goals1": [{"name": "A", "minute": 108}, {"name": "B", "minute": 23, "penalty": True}],
                "goals2": [{"name": "C", "minute": 118}, {"name": "D", "minute": 90, "offset": 1}],
                "ground": "Lusail",
            },
            {
                "round": "Matchday 1",
                "date": "2022-11-20",
                "time": "19:00",
                "team1": "Qatar",
                "team2": "Ecuador",
                "score": {"ft": [1, 0], "ht": [0, 0]},
                "goals1": [{"name": "E", "minute": 40, "owngoal": True}],
                "goals2": [],
                "group": "Group A",
                "ground": "Al Bayt",
            },
        ],
    }
    derived = derive_from_openfootball(source)

    first, final = derived["matches"]
    assert (first["number"], first["kickoff"], first["group"]) == (1, "2022-11-20T16:00:00Z", "Group A")
    assert first["goals"] == [
        {"team": HOME, "minute": 40, "added": 0, "scorer": "E", "penalty": False, "own_goal": True}
    ]
    assert first["score"] == {"ft": [1, 0], "aet": None, "penalties": None, "ht": [1, 0]}
    assert (final["number"], final["kickoff"], final["group"]) == (2, "2022-12-18T15:00:00Z", None)
    assert [(g["minute"], g["added"], g["team"]) for g in final["goals"]] == [
        (23, 0, HOME),
        (90, 1, AWAY),
        (108, 0, HOME),
        (118, 0, AWAY),
    ]
    assert final["score"] == {"ft": [1, 1], "aet": [2, 2], "penalties": [4, 2], "ht": [1, 0]}


def test_a_goal_list_that_does_not_add_up_to_the_score_is_refused():
    source = {
        "name": "x",
        "matches": [
            {
                "round": "Matchday 1",
                "date": "2022-11-20",
                "time": "19:00",
                "team1": "Qatar",
                "team2": "Ecuador",
                "score": {"ft": [0, 2]},
                "goals2": [{"name": "Enner Valencia", "minute": 16}],
                "group": "Group A",
                "ground": "Al Bayt",
            }
        ],
    }

    with pytest.raises(ValueError, match="the goals do not add up to the full-time score"):
        derive_from_openfootball(source)


def test_the_vendored_file_names_its_source_and_ships_its_licence():
    document = (SANDBOX / "worldcup2022.json").read_text(encoding="utf-8")
    licence = (SANDBOX / "LICENSE-openfootball").read_text(encoding="utf-8")

    assert worldcup.SOURCE["commit"] in document
    assert worldcup.SOURCE["commit"] in licence
    assert "dedicated to the public domain" in licence
    assert len(document.encode()) < 64 * 1024
