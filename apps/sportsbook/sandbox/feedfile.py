"""The sandbox odds feed: the 2022 World Cup replayed as the feed messages of the sportsbook
contract, one JSON line per instant.

Each line is `{"at": S, "body": {"messages": [...]}}`: `at` is whole seconds from the start of the
file, and `body` is a request body of `POST /api/feed/v1/messages` as it is signed and sent at
that moment (`feed_replay` waits for `at`, divided by its `--speed`). `seq` grows by one with
every message of the file.

Per match (ids `wc22-NN`, its markets `wc22-NN-1x2`, `-ou25` and, for a knock-out match,
`-qualify`; selections `<market>-home|draw|away|over|under`):

- `prematch_lead_s` before kick-off: `event`, then a `market` message per market;
- at kick-off: `live`;
- every `price_interval_s` of play: a `market` message for each market whose prices moved (the
  time left lowers the chance of more goals), a `suspend` of a market that is as good as decided
  (a price outside the model's range; see `poisson.book`) and `market` + `resume` of one that no
  longer is;
- at each goal: `suspend` of the event, and `resume_after_s` later the repriced `market`
  messages, then a `resume` of each market still worth offering (a goal inside that wait moves
  the repricing to its own wait);
- at the final whistle of the 90 minutes: `suspend` of the event and the `result` of the match
  odds and the total goals (they settle on 90 minutes and stoppage time); a knock-out match
  level after 90 minutes has its `-qualify` market repriced and resumed for extra time, suspended
  at its end and settled after the shoot-out;
- `heartbeat` whenever `heartbeat_s` would otherwise pass without a message while a match is on
  (kick-off to result), so no in-play market goes stale.

What the data does not say is drawn from `random.Random(seed)`: the added time of each half (at
least the latest stoppage-time goal of the half), the second of the minute in which each goal
falls, and each side's prior strength. The same seed gives the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from apps.sportsbook.sandbox import poisson
from apps.sportsbook.sandbox.worldcup import AWAY, HOME, Goal, Match, load_matches

MINUTE = 60
HALF_TIME_S = 15 * MINUTE
BEFORE_EXTRA_TIME_S = 5 * MINUTE
EXTRA_TIME_HALF_TIME_S = 2 * MINUTE
SHOOT_OUT_S = 12 * MINUTE
# Stoppage time still to come, counted as play, before it is shown (then the minutes shown are).
EXPECTED_ADDED_MINUTES = 4
EXPECTED_EXTRA_TIME_ADDED_MINUTES = 1
EXTRA_TIME_PLAY = poisson.EXTRA_TIME_MINUTES + EXPECTED_EXTRA_TIME_ADDED_MINUTES

MATCH_ODDS = "1x2"
TOTAL_GOALS = "ou25"
TO_QUALIFY = "qualify"


@dataclass(frozen=True)
class FeedSettings:
    seed: int = 2022
    margin: Decimal = Decimal("0.05")
    prematch_lead_s: int = 60 * MINUTE
    heartbeat_s: int = 5
    price_interval_s: int = MINUTE
    resume_after_s: int = 8
    in_play_delay_s: int = 5


@dataclass(frozen=True)
class Period:
    """A stretch of play: `first_minute` is the referee's clock at its start (0, 45, 90, 105)."""

    start: int  # seconds from the start of the file
    first_minute: int
    minutes: int  # 45 or 15
    added: int  # stoppage minutes played at its end

    @property
    def end(self) -> int:
        return self.start + (self.minutes + self.added) * MINUTE

    def instant(self, goal: Goal, second: int) -> int:
        into = goal.minute - 1 - self.first_minute + goal.added
        return self.start + into * MINUTE + second


@dataclass(frozen=True)
class Timeline:
    """When things happen in one match, in seconds from the start of the file."""

    match: Match
    published: int
    kickoff: int
    periods: tuple[Period, ...]  # two halves, then two halves of extra time if it was played
    goals: tuple[tuple[int, Goal], ...]  # (instant, goal) in the order they were scored
    shoot_out_end: int | None

    @property
    def full_time(self) -> int:
        return self.periods[1].end

    @property
    def end(self) -> int:
        if self.shoot_out_end is not None:
            return self.shoot_out_end
        return self.periods[-1].end

    def minutes_left(self, at: int) -> float:
        """Minutes of play still to come in the current part of the match (90 minutes, or extra
        time), counting stoppage time before it is shown as EXPECTED_*_ADDED_MINUTES."""
        regulation = at < self.full_time
        periods = self.periods[:2] if regulation else self.periods[2:]
        expected_added = EXPECTED_ADDED_MINUTES if regulation else EXPECTED_EXTRA_TIME_ADDED_MINUTES
        first, last = periods
        if at < first.start:
            return float(first.minutes + last.minutes + expected_added)
        if at < first.end:
            played = min((at - first.start) / MINUTE, first.minutes)
            return first.minutes - played + last.minutes + expected_added
        if at < last.start:
            return float(last.minutes + expected_added)
        played = (at - last.start) / MINUTE
        if played < last.minutes:
            return last.minutes - played + expected_added
        return max((last.end - at) / MINUTE, 0.0)


@dataclass
class Plan:
    settings: FeedSettings
    timelines: list[Timeline]
    rates: dict[int, tuple[float, float]]  # match number -> expected 90-minute goals, pre-match
    origin: datetime  # the UTC moment of `at` 0 in the 2022 calendar

    def event_id(self, match: Match) -> str:
        return f"wc22-{match.number:02d}"


def _added_minutes(rng: random.Random, goals: Iterable[Goal], *, last_minute: int, low: int, high: int) -> int:
    needed = max((goal.added for goal in goals if goal.minute == last_minute), default=0)
    return max(needed, rng.randint(low, high))


def _timeline(match: Match, kickoff: int, rng: random.Random, settings: FeedSettings) -> Timeline:
    first = Period(kickoff, 0, 45, _added_minutes(rng, match.goals, last_minute=45, low=1, high=6))
    second_start = first.end + HALF_TIME_S
    second = Period(second_start, 45, 45, _added_minutes(rng, match.goals, last_minute=90, low=3, high=10))
    periods = [first, second]
    shoot_out_end = None
    if match.went_to_extra_time:
        third = Period(
            second.end + BEFORE_EXTRA_TIME_S, 90, 15, _added_minutes(rng, match.goals, last_minute=105, low=0, high=2)
        )
        fourth = Period(
            third.end + EXTRA_TIME_HALF_TIME_S,
            105,
            15,
            _added_minutes(rng, match.goals, last_minute=120, low=0, high=2),
        )
        periods += [third, fourth]
        if match.penalties:
            shoot_out_end = fourth.end + SHOOT_OUT_S
    instants = []
    taken = set()
    for goal in match.goals:
        period = next(p for p in periods if goal.minute <= p.first_minute + p.minutes)
        instant = period.instant(goal, rng.randrange(MINUTE))
        while instant in taken:  # two goals in one minute are two instants
            instant += 1
        taken.add(instant)
        instants.append((instant, goal))
    return Timeline(
        match=match,
        published=kickoff - settings.prematch_lead_s,
        kickoff=kickoff,
        periods=tuple(periods),
        goals=tuple(sorted(instants, key=lambda pair: pair[0])),
        shoot_out_end=shoot_out_end,
    )


def build_plan(settings: FeedSettings = FeedSettings(), *, numbers: Iterable[int] | None = None) -> Plan:
    """The timelines of the chosen matches (all 64 by default) and their pre-match goal rates.

    Every match is drawn, chosen or not, so a match's file is the same whatever else is chosen,
    and the strengths come from all the matches finished before a match's markets open."""
    matches = load_matches()
    rng = random.Random(settings.seed)  # noqa: S311 - a reproducible draw, not a secret
    teams = sorted({team for match in matches for team in (match.home, match.away)})
    priors = {
        team: poisson.Strength(attack=rng.lognormvariate(0, 0.2), defence=rng.lognormvariate(0, 0.2)) for team in teams
    }
    origin = min(match.kickoff for match in matches) - timedelta(seconds=settings.prematch_lead_s)

    def seconds(moment: datetime) -> int:
        return int((moment - origin).total_seconds())

    timelines = [_timeline(match, seconds(match.kickoff), rng, settings) for match in matches]
    ratings = poisson.Ratings(priors=priors)
    finished = sorted(timelines, key=lambda timeline: timeline.full_time)
    rates = {}
    for timeline in sorted(timelines, key=lambda timeline: (timeline.published, timeline.match.number)):
        while finished and finished[0].full_time <= timeline.published:
            done = finished.pop(0).match
            ratings.record(done.home, done.away, done.ft)
        rates[timeline.match.number] = ratings.rates(timeline.match.home, timeline.match.away)
    if numbers is not None:
        chosen = set(numbers)
        unknown = chosen - {timeline.match.number for timeline in timelines}
        if unknown or not chosen:
            raise ValueError(f"no such match: {sorted(unknown)}")
        timelines = [timeline for timeline in timelines if timeline.match.number in chosen]
        shift = min(timeline.published for timeline in timelines)
        origin += timedelta(seconds=shift)
        timelines = [_shifted(timeline, -shift) for timeline in timelines]
    return Plan(settings=settings, timelines=timelines, rates=rates, origin=origin)


def _shifted(timeline: Timeline, by: int) -> Timeline:
    return replace(
        timeline,
        published=timeline.published + by,
        kickoff=timeline.kickoff + by,
        periods=tuple(replace(period, start=period.start + by) for period in timeline.periods),
        goals=tuple((instant + by, goal) for instant, goal in timeline.goals),
        shoot_out_end=None if timeline.shoot_out_end is None else timeline.shoot_out_end + by,
    )


@dataclass
class _MarketState:
    market_id: str
    name: str
    selections: dict[str, tuple[str, str]]  # key -> (selection_id, name)
    prices: dict[str, Decimal] | None = None  # the last prices sent
    suspended: bool = False  # as PAM holds it after the messages sent so far
    settled: bool = False


@dataclass
class _MatchFeed:
    """The messages of one match, as (instant, message) in the order they are sent."""

    plan: Plan
    timeline: Timeline
    start: datetime | None
    out: list[tuple[int, dict]] = field(default_factory=list)

    def __post_init__(self) -> None:
        match = self.timeline.match
        self.event_id = self.plan.event_id(match)
        self.rates = self.plan.rates[match.number]
        self.markets: dict[str, _MarketState] = {}
        home, away = match.home, match.away
        self._add(MATCH_ODDS, "Match odds (90 minutes)", {HOME: home, "draw": "Draw", AWAY: away})
        self._add(TOTAL_GOALS, "Total goals over/under 2.5 (90 minutes)", {"over": "Over 2.5", "under": "Under 2.5"})
        if match.knockout:
            self._add(TO_QUALIFY, "To qualify", {HOME: home, AWAY: away})

    def _add(self, code: str, name: str, selections: dict[str, str]) -> None:
        market_id = f"{self.event_id}-{code}"
        self.markets[code] = _MarketState(
            market_id=market_id,
            name=name,
            selections={key: (f"{market_id}-{key}", label) for key, label in selections.items()},
        )

    def send(self, at: int, message: dict) -> None:
        self.out.append((at, message))

    # -- prices ---------------------------------------------------------------------------------

    def score(self, at: int) -> tuple[int, int]:
        goals = [goal for instant, goal in self.timeline.goals if instant <= at]
        return (sum(goal.team == HOME for goal in goals), sum(goal.team == AWAY for goal in goals))

    def probabilities(self, at: int) -> dict[str, dict[str, float]]:
        """Each unsettled market's outcome probabilities with the score and time at `at`."""
        timeline = self.timeline
        left = timeline.minutes_left(at)
        grid = poisson.score_grid(*poisson.remaining_rates(self.rates, left), score=self.score(at))
        in_extra_time = at >= timeline.full_time
        result = {}
        if not in_extra_time:
            result[MATCH_ODDS] = poisson.match_odds(grid)
            result[TOTAL_GOALS] = poisson.over_under(grid)
        if TO_QUALIFY in self.markets:
            share = 0.5 if in_extra_time else poisson.extra_time_home_share(self.rates, minutes_left=EXTRA_TIME_PLAY)
            result[TO_QUALIFY] = poisson.to_qualify(grid, home_share_of_level=share)
        return result

    def _market_message(self, state: _MarketState) -> dict:
        return {
            "type": "market",
            "event_id": self.event_id,
            "market_id": state.market_id,
            "name": state.name,
            "selections": [
                {"selection_id": selection_id, "name": name, "price": str(state.prices[key])}
                for key, (selection_id, name) in state.selections.items()
            ],
        }

    def reprice(self, at: int) -> None:
        """Send the prices that moved, suspend a market that is as good as decided, and resume
        every market that is offered again (all of them after the event's suspension)."""
        for code, probabilities in self.probabilities(at).items():
            state = self.markets[code]
            if state.settled:
                continue
            prices = poisson.book(probabilities, margin=self.plan.settings.margin)
            if prices is None:
                if state.prices is None:
                    raise ValueError(f"{state.market_id}: no price to open the market with")
                if not state.suspended:
                    self.send(at, {"type": "suspend", "market_id": state.market_id})
                    state.suspended = True
                continue
            if prices != state.prices:
                state.prices = prices
                self.send(at, self._market_message(state))
            if state.suspended:
                self.send(at, {"type": "resume", "market_id": state.market_id})
                state.suspended = False

    def suspend_event(self, at: int) -> None:
        self.send(at, {"type": "suspend", "event_id": self.event_id})
        for state in self.markets.values():
            state.suspended = True

    def settle(self, at: int, code: str, winner: str) -> None:
        state = self.markets[code]
        self.send(
            at, {"type": "result", "market_id": state.market_id, "winners": [state.selections[winner][0]], "void": []}
        )
        state.settled = True

    # -- the match ------------------------------------------------------------------------------

    def messages(self) -> list[tuple[int, dict]]:
        timeline, match, settings = self.timeline, self.timeline.match, self.plan.settings
        kickoff = match.kickoff
        if self.start is not None:
            kickoff = self.start + timedelta(seconds=timeline.kickoff)
        self.send(
            timeline.published,
            {
                "type": "event",
                "event_id": self.event_id,
                "name": f"{match.home} v {match.away}",
                "sport": "football",
                "starts_at": kickoff.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "in_play_delay_s": settings.in_play_delay_s,
            },
        )
        self.reprice(timeline.published)
        self.send(timeline.kickoff, {"type": "live", "event_id": self.event_id})

        goal_instants = {instant for instant, _ in timeline.goals}
        # A goal's repricing waits `resume_after_s`; a goal inside that wait takes it over.
        ordered = sorted(goal_instants)
        reprice_after_goal = {
            instant + settings.resume_after_s
            for index, instant in enumerate(ordered)
            if index + 1 == len(ordered) or ordered[index + 1] > instant + settings.resume_after_s
        }
        full_time = timeline.full_time
        extra_time = match.went_to_extra_time
        reprice_for_extra_time = full_time + settings.resume_after_s
        shoot_out = timeline.periods[-1].end if timeline.shoot_out_end is not None else None
        ticks = {
            tick
            for period in timeline.periods
            for tick in range(period.start + settings.price_interval_s, period.end, settings.price_interval_s)
        }
        instants = goal_instants | reprice_after_goal | ticks | {full_time, timeline.end}
        if extra_time:
            instants.add(reprice_for_extra_time)
        if shoot_out is not None:
            instants.add(shoot_out)

        suspended_until = None  # after a goal or the 90 minutes, nothing is priced before this
        for at in sorted(instants):
            if at in goal_instants:
                self.suspend_event(at)
                suspended_until = min(due for due in reprice_after_goal if due > at)
            elif at == full_time:
                self.suspend_event(at)
                ft = match.ft
                self.settle(at, MATCH_ODDS, HOME if ft[0] > ft[1] else AWAY if ft[0] < ft[1] else "draw")
                self.settle(at, TOTAL_GOALS, "over" if sum(ft) > 2 else "under")
                if not extra_time:
                    if match.knockout:
                        self.settle(at, TO_QUALIFY, match.qualified)
                    break
                suspended_until = reprice_for_extra_time
            elif at == shoot_out:
                self.suspend_event(at)
                suspended_until = timeline.end
            elif at == timeline.end:
                self.settle(at, TO_QUALIFY, match.qualified)
                break
            elif suspended_until is None or at >= suspended_until:
                suspended_until = None
                self.reprice(at)
        return self.out


def generate(plan: Plan, *, start: datetime | None = None) -> Iterator[dict]:
    """The lines of the feed file, in order: `{"at": seconds, "body": {"messages": [...]}}`.

    `start` moves the events' `starts_at` so that `at` 0 is that moment (a replay that should
    look live today); by default they keep their 2022 kick-off times."""
    settings = plan.settings
    timed: list[tuple[int, int, int, dict]] = []
    live_windows = []
    for timeline in plan.timelines:
        feed = _MatchFeed(plan, timeline, start)
        for order, (at, message) in enumerate(feed.messages()):
            timed.append((at, timeline.match.number, order, message))
        live_windows.append((timeline.kickoff, timeline.end))
    sent = sorted({at for at, *_ in timed})
    for first, last in _merged(live_windows):
        cursor = first
        for at in [*sent[bisect_right(sent, first) : bisect_right(sent, last)], last]:
            while at - cursor > settings.heartbeat_s:
                cursor += settings.heartbeat_s
                timed.append((cursor, 0, 0, {"type": "heartbeat"}))
            cursor = at
    timed.sort(key=lambda item: item[:3])
    line: dict | None = None
    for seq, (at, _, _, message) in enumerate(timed, 1):
        if line is None or line["at"] != at:
            if line is not None:
                yield line
            line = {"at": at, "body": {"messages": []}}
        line["body"]["messages"].append({"seq": seq, **message})
    if line is not None:
        yield line


def _merged(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(windows):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


@dataclass(frozen=True)
class Written:
    lines: int
    messages: int
    seconds: int  # `at` of the last line


def dump_line(line: dict) -> str:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def write_feed_file(
    path: Path | str,
    settings: FeedSettings = FeedSettings(),
    *,
    numbers: Iterable[int] | None = None,
    start: datetime | None = None,
) -> Written:
    """Write the feed file of the chosen matches (all 64 by default) to `path`."""
    lines = messages = last = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for line in generate(build_plan(settings, numbers=numbers), start=start):
            handle.write(dump_line(line) + "\n")
            lines += 1
            messages += len(line["body"]["messages"])
            last = line["at"]
    return Written(lines=lines, messages=messages, seconds=last)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the World Cup 2022 sandbox feed file (JSON lines).")
    parser.add_argument("path")
    parser.add_argument("--seed", type=int, default=FeedSettings.seed)
    parser.add_argument("--margin", type=Decimal, default=FeedSettings.margin)
    parser.add_argument("--matches", type=int, nargs="*", help="match numbers 1..64 (default: all)")
    parser.add_argument("--start-now", action="store_true", help="kick-off times relative to now, not 2022's")
    arguments = parser.parse_args(argv)
    written = write_feed_file(
        arguments.path,
        FeedSettings(seed=arguments.seed, margin=arguments.margin),
        numbers=arguments.matches or None,
        start=datetime.now(UTC).replace(microsecond=0) if arguments.start_now else None,
    )
    sys.stdout.write(f"{arguments.path}: {written.lines} lines, {written.messages} messages over {written.seconds} s\n")


if __name__ == "__main__":
    main()
