"""Replaying the sandbox's World Cup feed file with players betting in play on it, on a fake clock:
the price-version rule and the in-play delay checked against every goal of the file
(docs/sportsbook-sandbox.md, "Replaying with bets").

The file is replayed through the feed endpoint's own path (`replay.in_process`); time is the
file's (`at`, seconds), never the wall clock's, so a match of two hours replays in seconds. Bets go
through `services.place_bet`, as the bets API places them, and are released through
`services.release_pending_bet` once the file's time has passed their in-play delay (each bet is
told its own `release_at` as "now": the wall clock has not). Three kinds:

- **before a goal**: in the instant of each goal, before the feed's suspension is applied, a player
  bets on every open market of the scoring event at the version and price shown. Each is pending
  for the delay, the goal arrives, and each is released after it: every one must be rejected
  `MARKET_SUSPENDED` (its price was seen before the goal);
- **while suspended**: right after the goal's suspension, a player bets on each market of the
  event at the version shown then: every one must be refused at once (`MarketSuspended`, nothing
  taken);
- **quiet**: every `quiet_every_s` of the file's time at most per market, a bet on an open in-play
  market for which the file says nothing (no price, suspension, result, nothing about its event)
  from its placement until its release: every one must be accepted.

What the file says and when is read from the file itself, not from PAM, so the expectations are
independent of the code they check. `replay_with_bets` returns the counts (`Tally`); a test or a
benchmark asserts them.
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from apps.accounts.models import Player
from apps.sportsbook import intake, replay, services
from apps.sportsbook.choices import BetStatus, EventStatus, MarketStatus
from apps.sportsbook.errors import MarketSuspended
from apps.sportsbook.models import Bet, Market
from apps.sportsbook.sandbox.feedfile import Plan

STAKE = 100


@dataclass
class Tally:
    """What happened to each kind of bet; `unexpected` names every one that did otherwise."""

    goals: int = 0
    before_goal: int = 0
    before_goal_rejected: int = 0  # rejected MARKET_SUSPENDED after their delay
    while_suspended: int = 0
    while_suspended_refused: int = 0  # refused at once
    quiet: int = 0
    quiet_accepted: int = 0
    unexpected: list[str] = field(default_factory=list)


@dataclass
class _Pending:
    due: float  # the file's time at which its delay has run out
    bet_id: int
    kind: str  # "before_goal" or "quiet"
    label: str


class _Touches:
    """When the file says something of each market (by its id or its event's), in the file's
    time: a quiet bet needs none from its placement to its release."""

    def __init__(self, lines: Iterable[tuple[float, bytes]]) -> None:
        by_event: dict[str, list[float]] = defaultdict(list)
        by_market: dict[str, list[float]] = defaultdict(list)
        self.event_of: dict[str, str] = {}
        for at, body in lines:
            for message in json.loads(body)["messages"]:
                if message.get("market_id"):
                    by_market[message["market_id"]].append(at)
                    if message.get("event_id"):
                        self.event_of[message["market_id"]] = message["event_id"]
                elif message.get("event_id"):
                    by_event[message["event_id"]].append(at)
        self.times = {
            market_id: sorted(set(by_market[market_id]) | set(by_event[event_id]))
            for market_id, event_id in self.event_of.items()
        }

    def quiet(self, market_id: str, after: float, until: float) -> bool:
        """Nothing said of the market in (after, until]."""
        times = self.times.get(market_id, [])
        index = bisect.bisect_right(times, after)
        return index == len(times) or times[index] > until


def replay_with_bets(
    path: Path | str, feed_id: int, plan: Plan, players: list[Player], *, quiet_every_s: float = 600.0,
    each: Callable[[float, replay.Replayed], None] | None = None,
) -> Tally:  # fmt: skip
    """Replay the feed file `path` (made from `plan`) into the feed `feed_id` on a fake clock, with
    `players` (funded in EUR) betting on it (module docstring); the counts."""
    delay = plan.settings.in_play_delay_s
    goals = {(instant, plan.event_id(timeline.match)) for timeline in plan.timelines for instant, _ in timeline.goals}
    touches = _Touches(replay.read_lines(path))
    tally, pending = Tally(), []
    keys, bettors = itertools.count(1), itertools.cycle(players)
    last_quiet: dict[str, float] = {}
    inner = replay.in_process(feed_id)
    now = {"at": 0.0}

    def place(market: Market, kind: str) -> Bet:
        selection = market.selections.order_by("position").first()
        leg = intake.LegRequest(selection.selection_id, selection.price, market.version)
        return services.place_bet(player=next(bettors), idempotency_key=f"{kind}-{next(keys)}", stake=STAKE,
                                  currency="EUR", legs=[leg], accept_price_changes="none").bet  # fmt: skip

    def release_due(at: float) -> None:
        for item in [item for item in pending if item.due <= at]:
            pending.remove(item)
            bet = Bet.objects.get(pk=item.bet_id)
            bet = services.release_pending_bet(bet_id=bet.pk, now=bet.release_at)
            if item.kind == "before_goal":
                if (bet.status, bet.reject_reason) == (BetStatus.REJECTED, "MARKET_SUSPENDED"):
                    tally.before_goal_rejected += 1
                else:
                    tally.unexpected.append(f"{item.label}: {bet.status} {bet.reject_reason}".strip())
            elif bet.status == BetStatus.ACCEPTED:
                tally.quiet_accepted += 1
            else:
                tally.unexpected.append(f"{item.label}: {bet.status} {bet.reject_reason}")

    def open_markets(**filters) -> list[Market]:
        return list(Market.objects.filter(status=MarketStatus.OPEN, event__status=EventStatus.LIVE, **filters)
                    .order_by("pk"))  # fmt: skip

    def before_goal(event_id: str, at: float) -> None:
        tally.goals += 1
        for market in open_markets(event__event_id=event_id):
            bet = place(market, "before_goal")
            tally.before_goal += 1
            label = f"{at:g} s, {market.market_id} v{market.version} before the goal"
            if bet.status != BetStatus.PENDING:
                tally.unexpected.append(f"{label}: {bet.status}, not pending")
                continue
            pending.append(_Pending(at + delay, bet.pk, "before_goal", label))

    def while_suspended(event_id: str, at: float) -> None:
        for market in Market.objects.filter(event__event_id=event_id, status=MarketStatus.SUSPENDED).order_by("pk"):
            tally.while_suspended += 1
            try:
                bet = place(market, "while_suspended")
            except MarketSuspended:
                tally.while_suspended_refused += 1
            else:
                tally.unexpected.append(f"{at:g} s, {market.market_id} v{market.version} while suspended: "
                                        f"{bet.status}")  # fmt: skip

    def quiet(at: float) -> None:
        for market in open_markets(feed_id=feed_id):
            if at - last_quiet.get(market.market_id, float("-inf")) < quiet_every_s:
                continue
            if not touches.quiet(market.market_id, at, at + delay):
                continue
            last_quiet[market.market_id] = at
            bet = place(market, "quiet")
            tally.quiet += 1
            label = f"{at:g} s, {market.market_id} v{market.version} quiet"
            if bet.status != BetStatus.PENDING:
                tally.unexpected.append(f"{label}: {bet.status}, not pending")
                continue
            pending.append(_Pending(at + delay, bet.pk, "quiet", label))

    def send(body: bytes) -> tuple[int, int]:
        at = now["at"]
        release_due(at)
        scoring = sorted(
            {m["event_id"] for m in json.loads(body)["messages"]
             if m["type"] == "suspend" and (at, m.get("event_id")) in goals}
        )  # fmt: skip
        for event_id in scoring:
            before_goal(event_id, at)
        answer = inner(body)
        for event_id in scoring:
            while_suspended(event_id, at)
        quiet(at)
        return answer

    def timed() -> Iterator[tuple[float, bytes]]:
        for at, body in replay.read_lines(path):
            now["at"] = at
            yield at, body

    clock = _FakeClock()
    replay.replay(timed(), send, speed=1e9, clock=clock, sleep=clock.sleep, each=each)
    release_due(float("inf"))
    return tally


class _FakeClock:
    """The replay's clock: sleeping moves it at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
