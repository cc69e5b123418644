"""`manage.py feed_replay` (apps/sportsbook/replay.py): a recorded feed file replayed with its
timing compressed by `--speed`, on a fake clock, through the feed endpoint's own parsing and
service. The World Cup's matches: every goal suspends every market of its event at once (a new
version, recorded as its `suspended_version` and published in the same batch's frames), and no
market of the event is open again, in the database or in a frame, until the feed reprices it and
resumes it after the goal."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.common.models import OutboxEvent
from apps.sportsbook import replay
from apps.sportsbook.choices import SETTLED_BET_STATUSES
from apps.sportsbook.models import Bet, Event, Feed, Market
from apps.sportsbook.sandbox import replay_bets
from apps.sportsbook.sandbox.feedfile import FeedSettings, build_plan, write_feed_file
from apps.sportsbook.tests.factories import FEED, a_feed, event, heartbeat, market
from apps.wallet import audit
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db

# England v Iran (6-2, the group stage's most goals) and the final (3-3, extra time, penalties):
# 14 goals. The whole tournament (87,600 messages) takes minutes on this machine; these two have
# every kind of moment it has (about 15 s).
MATCHES = [2, 64]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def write_lines(path: Path, *lines: tuple[float, list[dict]]) -> Path:
    path.write_text("".join(json.dumps({"at": at, "body": {"messages": body}}) + "\n" for at, body in lines))
    return path


def frames() -> list[tuple[int, dict]]:
    """(outbox id, market state) of every market published, in publication order."""
    rows = OutboxEvent.objects.filter(name="sportsbook.markets_changed").order_by("pk")
    return [(row.pk, state) for row in rows for state in row.payload["markets"]]


def test_each_line_is_sent_at_its_time_compressed_by_the_speed(tmp_path):
    feed = a_feed()
    path = write_lines(tmp_path / "feed.jsonl", (0, [event(1)]), (60, [market(2)]), (60, [heartbeat(3)]),
                       (150, [heartbeat(4)]))  # fmt: skip
    clock = FakeClock()

    done = replay.replay(replay.read_lines(path), replay.in_process(feed.pk), speed=30, clock=clock, sleep=clock.sleep)

    assert clock.slept == [2.0, 3.0]  # 60 s and 150 s in, at 30 times the speed
    assert (done.lines, done.applied, done.skipped) == (4, 4, 0)
    assert Feed.objects.get().last_seq == 4


def test_a_late_send_delays_the_next_lines_and_a_rerun_skips_what_was_applied(tmp_path):
    feed = a_feed()
    path = write_lines(tmp_path / "feed.jsonl", (0, [event(1)]), (10, [market(2)]), (20, [heartbeat(3)]))
    clock = FakeClock()
    send = replay.in_process(feed.pk)

    def slow(body: bytes) -> tuple[int, int]:
        clock.now += 15  # each send takes 15 s: the next line is due already
        return send(body)

    replay.replay(replay.read_lines(path), slow, clock=clock, sleep=clock.sleep)
    again = replay.replay(replay.read_lines(path), send, speed=1000, clock=clock, sleep=clock.sleep)

    assert clock.slept == pytest.approx([0.01, 0.01])  # the second run only
    assert (again.applied, again.skipped) == (0, 3)


def test_a_file_that_is_not_a_feed_file_is_refused_at_its_first_bad_line(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text('{"at": 0, "body": {"messages": []}}\n{"at": -1, "body": {"messages": []}}\n')

    with pytest.raises(replay.ReplayError, match="line 2"):
        list(replay.read_lines(path))


def test_the_command_replays_a_file_for_a_feed_and_refuses_an_unknown_one(tmp_path, capsys):
    a_feed()
    path = write_lines(tmp_path / "feed.jsonl", (0, [event(1)]), (3600, [market(2)]))

    call_command("feed_replay", str(path), "--feed", FEED, "--speed", "1000000")

    assert "2 lines, 2 messages applied, 0 skipped" in capsys.readouterr().out
    assert Market.objects.get().version == 1
    with pytest.raises(CommandError, match="No feed 'nope'"):
        call_command("feed_replay", str(path), "--feed", "nope")


def test_a_refused_body_stops_the_command(tmp_path):
    a_feed()
    path = write_lines(tmp_path / "feed.jsonl", (0, [event(1)]), (1, [market(2, event_id="ev-unknown")]))

    with pytest.raises(CommandError, match="UNKNOWN_EVENT"):
        call_command("feed_replay", str(path), "--feed", FEED, "--speed", "1000000")
    assert Feed.objects.get().last_seq == 1


# Committed line by line, as the feed endpoint commits: the markets' results settle the bets after
# each commit, and no row carries thousands of versions of itself within one open transaction
# (which no vacuum could prune, and which every read of it would walk).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_replaying_the_world_cup_every_goal_suspends_and_no_price_seen_before_a_goal_stands(tmp_path):
    # One replay of the sample (about 15 s), checked two ways. The markets: at each goal every
    # market of its event is suspended at once, and none is open again before the feed reprices
    # it. The bets, at each of the 14 goals: before it, a bet on every open market of the scoring
    # event, released after the goal (all rejected MARKET_SUSPENDED); right after it, a bet on
    # each of its markets (all refused at once); and bets in quiet stretches (all accepted). The
    # whole tournament is `make bench`'s (BENCH=worldcup_bets).
    settings = FeedSettings()
    plan = build_plan(settings, numbers=MATCHES)
    path = tmp_path / "worldcup.jsonl"
    written = write_feed_file(path, settings, numbers=MATCHES)
    goals = collections.defaultdict(list)  # at -> the events that score then
    for timeline in plan.timelines:
        for instant, _ in timeline.goals:
            goals[instant].append(plan.event_id(timeline.match))
    feed = a_feed()
    players = [funded_player(10_000_000) for _ in range(4)]
    checked, replayed = [], []

    def after_line(at: float, done: replay.Replayed) -> None:
        replayed[:] = [done.applied]
        for event_id in goals.get(int(at), ()):
            markets = list(Market.objects.filter(event__event_id=event_id).exclude(status="settled"))
            assert markets, event_id
            assert {m.status for m in markets} == {"suspended"}, (at, event_id)
            assert all(m.suspended_version == m.version for m in markets), (at, event_id)
            last = {state["market_id"]: state for _, state in frames() if state["event_id"] == event_id}
            assert {m.market_id: (m.version, "suspended") for m in markets} == {
                m.market_id: (last[m.market_id]["version"], last[m.market_id]["status"]) for m in markets
            }
            checked.append((at, event_id))

    tally = replay_bets.replay_with_bets(path, feed.pk, plan, players, quiet_every_s=300, each=after_line)

    assert replayed == [written.messages]
    # Every goal was checked: 8 in England v Iran, 6 in the final.
    assert len(checked) == sum(len(t.goals) for t in plan.timelines) == 14

    # In the frames: after each goal's suspension, a market of its event is next open only at a
    # higher version, once the feed has repriced and resumed it (never a frame of it open at the
    # goal's version, and versions never go back).
    by_market = collections.defaultdict(list)
    for _, state in frames():
        by_market[state["market_id"]].append((state["version"], state["status"]))
    for market_id, states in by_market.items():
        versions = [version for version, _ in states]
        assert versions == sorted(set(versions)), market_id
    suspended_at = {market_id: [v for v, s in states if s == "suspended"] for market_id, states in by_market.items()}
    for market_id, states in by_market.items():
        for version, status in states:
            if status == "open":
                assert version not in suspended_at[market_id]
    assert set(Event.objects.values_list("status", flat=True)) == {"ended"}
    assert set(Market.objects.values_list("status", flat=True)) == {"settled"}

    assert tally.unexpected == []
    assert tally.goals == 14
    assert tally.before_goal_rejected == tally.before_goal > 0  # 100 %
    assert tally.while_suspended_refused == tally.while_suspended > 0  # 100 %
    assert tally.quiet_accepted == tally.quiet > 0
    assert Bet.objects.filter(status="pending").count() == 0
    # The quiet bets stood, and the results at full time settled each of them after its commit.
    assert Bet.objects.filter(status__in=SETTLED_BET_STATUSES).count() == tally.quiet
    assert Bet.objects.filter(status="accepted").count() == 0
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_a_line_may_be_a_body_or_a_message_sent_with_the_timed_line_before_it(tmp_path):
    path = tmp_path / "feed.jsonl"
    lines = [
        {"messages": [event(1)]},
        {"at": 60, "body": {"messages": [market(2)]}},
        {"messages": [heartbeat(3)]},
        heartbeat(4),
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    read = [(at, json.loads(body)) for at, body in replay.read_lines(path)]

    assert read == [
        (0.0, {"messages": [event(1)]}),
        (60.0, {"messages": [market(2)]}),
        (60.0, {"messages": [heartbeat(3)]}),
        (60.0, {"messages": [heartbeat(4)]}),
    ]


@pytest.mark.parametrize("line", ["[1, 2]", '"text"', '{"at": 0}', "not json"])
def test_a_line_of_none_of_the_forms_is_refused(tmp_path, line):
    path = tmp_path / "feed.jsonl"
    path.write_text('{"messages": []}\n' + line + "\n")

    with pytest.raises(replay.ReplayError, match="line 2"):
        list(replay.read_lines(path))


def test_without_a_feed_named_the_command_takes_the_only_feed_there_is(tmp_path, capsys):
    a_feed("only-one")
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps({"messages": [event(1), market(2)]}) + "\n")

    call_command("feed_replay", str(path), "--speed", "1000000")

    assert "for the feed 'only-one', the only one" in capsys.readouterr().out
    assert (Feed.objects.get().last_seq, Market.objects.get().version) == (2, 1)


def test_without_a_feed_named_and_several_feeds_the_command_asks_for_the_sandbox(tmp_path):
    a_feed("one")
    a_feed("two")
    path = write_lines(tmp_path / "feed.jsonl", (0, [event(1)]))

    with pytest.raises(CommandError, match="No feed 'sandbox'"):
        call_command("feed_replay", str(path))
    assert set(Feed.objects.values_list("last_seq", flat=True)) == {0}
