"""The 64 matches of the 2022 World Cup, as the sandbox feed replays them.

`worldcup2022.json` is derived from openfootball's public-domain `worldcup.json` (see
`LICENSE-openfootball` and `README.md` beside it) by `derive_from_openfootball`. What the
derivation changes, and why:

- Kick-off times: openfootball writes Qatar's local time without a zone; they are stored in UTC
  (Qatar is UTC+3 all year).
- Goals: kept per team as openfootball lists them (an own goal is listed under, and counts for,
  the team it was scored for), then put in the order they were scored.
- Half-time scores are recomputed from the goal minutes: three of openfootball's `ht` values
  disagree with its own goal lists (Japan-Spain, Serbia-Switzerland, Netherlands-Argentina).
- Scores: `ft` is after 90 minutes and stoppage time (what match betting settles on), `aet` after
  extra time (knock-out matches that were level), `penalties` the shoot-out, never goals.

Running it as a module re-derives the file from a downloaded copy of openfootball's file:
`python -m apps.sportsbook.sandbox.worldcup 2022/worldcup.json > worldcup2022.json`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DATA_FILE = Path(__file__).with_name("worldcup2022.json")
SOURCE = {
    "name": "openfootball/worldcup.json",
    "url": "https://github.com/openfootball/worldcup.json/blob/master/2022/worldcup.json",
    "commit": "326b3f852f57ca81ccb27c439edbaff5dab626f5",
    "licence": "public domain (see LICENSE-openfootball)",
}
# Qatar keeps Arabia Standard Time all year; openfootball's 2022 times carry no zone.
QATAR_UTC_OFFSET = timedelta(hours=3)
REGULATION_MINUTES = 90
HALF_MINUTES = 45
EXTRA_TIME_HALF_MINUTES = 15

HOME = "home"
AWAY = "away"


@dataclass(frozen=True)
class Goal:
    """A goal, on the clock a referee keeps: `minute` of the period plus `added` stoppage minutes
    (45+2 is minute 45, added 2; 105+1 is minute 105, added 1)."""

    team: str  # HOME or AWAY: the side the goal counts for
    minute: int
    added: int
    scorer: str
    penalty: bool
    own_goal: bool

    @property
    def in_regulation(self) -> bool:
        return self.minute <= REGULATION_MINUTES

    @property
    def in_first_half(self) -> bool:
        return self.minute <= HALF_MINUTES

    @property
    def label(self) -> str:
        return f"{self.minute}+{self.added}'" if self.added else f"{self.minute}'"


@dataclass(frozen=True)
class Match:
    number: int  # 1..64 in kick-off order (not FIFA's match numbers)
    round: str
    group: str | None
    kickoff: datetime  # UTC
    home: str
    away: str
    ground: str
    goals: tuple[Goal, ...]
    penalties: tuple[int, int] | None

    @property
    def knockout(self) -> bool:
        return self.group is None

    def score(self, *, up_to_minute: int | None = None) -> tuple[int, int]:
        """Goals of each side, all of them or those scored up to the end of `up_to_minute`'s
        period (45: the first half, 90: regulation, with their stoppage time)."""
        goals = [g for g in self.goals if up_to_minute is None or g.minute <= up_to_minute]
        return (sum(g.team == HOME for g in goals), sum(g.team == AWAY for g in goals))

    @property
    def ft(self) -> tuple[int, int]:
        return self.score(up_to_minute=REGULATION_MINUTES)

    @property
    def went_to_extra_time(self) -> bool:
        ft = self.ft
        return self.knockout and ft[0] == ft[1]

    @property
    def qualified(self) -> str | None:
        """The side that went through, for a knock-out match (extra time, then penalties)."""
        if not self.knockout:
            return None
        home, away = self.penalties if self.penalties else self.score()
        return HOME if home > away else AWAY


def _goal_order(goal: Goal) -> tuple[int, int]:
    return (goal.minute, goal.added)


def derive_from_openfootball(document: dict) -> dict:
    """openfootball's `worldcup.json` document -> the sandbox's `worldcup2022.json` document."""
    rows = []
    for index, source in enumerate(document["matches"]):
        local = datetime.fromisoformat(f"{source['date']}T{source['time']}")
        kickoff = (local - QATAR_UTC_OFFSET).replace(tzinfo=UTC)
        goals = sorted(
            (
                {
                    "team": team,
                    "minute": goal["minute"],
                    "added": goal.get("offset", 0),
                    "scorer": goal["name"],
                    "penalty": bool(goal.get("penalty")),
                    "own_goal": bool(goal.get("owngoal")),
                }
                for team, key in ((HOME, "goals1"), (AWAY, "goals2"))
                for goal in source.get(key, [])
            ),
            key=lambda goal: (goal["minute"], goal["added"]),
        )
        score = source["score"]
        rows.append(
            (
                kickoff,
                index,
                {
                    "round": source["round"],
                    "group": source.get("group"),
                    "kickoff": kickoff.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "home": source["team1"],
                    "away": source["team2"],
                    "ground": source["ground"],
                    "score": {
                        "ft": score["ft"],
                        "aet": score.get("et"),
                        "penalties": score.get("p"),
                    },
                    "goals": goals,
                },
            )
        )
    matches = []
    for number, (_, _, row) in enumerate(sorted(rows, key=lambda r: (r[0], r[1])), 1):
        regulation = [g for g in row["goals"] if g["minute"] <= REGULATION_MINUTES]
        first_half = [g for g in row["goals"] if g["minute"] <= HALF_MINUTES]
        row["score"]["ht"] = [sum(g["team"] == side for g in first_half) for side in (HOME, AWAY)]
        if [sum(g["team"] == side for g in regulation) for side in (HOME, AWAY)] != row["score"]["ft"]:
            raise ValueError(f"match {number}: the goals do not add up to the full-time score")
        matches.append({"number": number, **row})
    return {"name": document["name"], "source": SOURCE, "matches": matches}


def load_matches(path: Path = DATA_FILE) -> list[Match]:
    """The matches of the vendored file, in kick-off order."""
    document = json.loads(path.read_text(encoding="utf-8"))
    matches = []
    for row in document["matches"]:
        penalties = row["score"]["penalties"]
        matches.append(
            Match(
                number=row["number"],
                round=row["round"],
                group=row["group"],
                kickoff=datetime.fromisoformat(row["kickoff"]),
                home=row["home"],
                away=row["away"],
                ground=row["ground"],
                goals=tuple(sorted((Goal(**goal) for goal in row["goals"]), key=_goal_order)),
                penalties=tuple(penalties) if penalties else None,
            )
        )
    return matches


def _dump(document: dict) -> str:
    """One match per line: small, and a diff shows which match changed."""
    head = {key: value for key, value in document.items() if key != "matches"}
    lines = [json.dumps(match, ensure_ascii=False, separators=(",", ":")) for match in document["matches"]]
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    return opening + ', "matches": [\n' + ",\n".join(lines) + "\n]}\n"


if __name__ == "__main__":
    source = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8-sig"))
    sys.stdout.write(_dump(derive_from_openfootball(source)))
