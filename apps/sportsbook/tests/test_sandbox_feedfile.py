"""The World Cup sandbox feed file: messages of the sportsbook contract, in sequence, that
suspend an event at every goal before any later price of it, carry the margin, keep in-play
markets from going stale, settle on the real scores, and come out the same for the same seed."""

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest

from apps.sportsbook.sandbox import feedfile, poisson
from apps.sportsbook.sandbox.feedfile import FeedSettings, build_plan, generate, write_feed_file
from apps.sportsbook.sandbox.worldcup import AWAY, HOME

SETTINGS = FeedSettings()
PRICE = re.compile(r"^\d+\.\d{1,2}$")
KEYS = {
    "event": {"seq", "type", "event_id", "name", "sport", "starts_at", "in_play_delay_s"},
    "market": {"seq", "type", "event_id", "market_id", "name", "selections"},
    "live": {"seq", "type", "event_id"},
    "result": {"seq", "type", "market_id", "winners", "void"},
    "heartbeat": {"seq", "type"},
}


@pytest.fixture(scope="module")
def plan():
    return build_plan(SETTINGS)


@pytest.fixture(scope="module")
def lines(plan):
    return list(generate(plan))


@pytest.fixture(scope="module")
def messages(lines):
    """(at, message) of the whole file, in file order."""
    return [(line["at"], message) for line in lines for message in line["body"]["messages"]]


def event_of(message: dict) -> str:
    """`wc22-NN` for every message but a heartbeat (market ids start with their event's id)."""
    return message.get("event_id") or message["market_id"][:7]


def test_seq_grows_by_one_with_every_message_and_lines_are_in_time_order(lines, messages):
    assert [message["seq"] for _, message in messages] == list(range(1, len(messages) + 1))
    instants = [line["at"] for line in lines]
    assert instants == sorted(set(instants))
    assert instants[0] == 0
    assert all(isinstance(at, int) for at in instants)
    assert all(line.keys() == {"at", "body"} and line["body"].keys() == {"messages"} for line in lines)


def test_every_message_has_the_contract_shape(messages):
    for _, message in messages:
        kind = message["type"]
        if kind in {"suspend", "resume"}:
            assert message.keys() in ({"seq", "type", "event_id"}, {"seq", "type", "market_id"}), message
        else:
            assert message.keys() == KEYS[kind], message
        if kind == "market":
            for selection in message["selections"]:
                assert selection.keys() == {"selection_id", "name", "price"}


def test_every_match_is_an_event_published_before_kickoff_and_live_at_kickoff(plan, messages):
    first_seen = {}
    for at, message in messages:
        if message["type"] != "heartbeat":
            first_seen.setdefault(event_of(message), (at, message))
    assert len(first_seen) == 64
    for timeline in plan.timelines:
        at, message = first_seen[plan.event_id(timeline.match)]
        assert message["type"] == "event"
        assert at == timeline.kickoff - SETTINGS.prematch_lead_s
        assert message["starts_at"] == timeline.match.kickoff.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert message["in_play_delay_s"] == SETTINGS.in_play_delay_s
    live = {message["event_id"]: at for at, message in messages if message["type"] == "live"}
    assert live == {plan.event_id(t.match): t.kickoff for t in plan.timelines}


def test_every_goal_suspends_its_event_before_any_later_price_of_it(plan, messages):
    goals = 0
    by_event = defaultdict(list)
    for at, message in messages:
        if message["type"] != "heartbeat":
            by_event[event_of(message)].append((at, message))
    for timeline in plan.timelines:
        event_id = plan.event_id(timeline.match)
        for instant, goal in timeline.goals:
            goals += 1
            at_or_after = [(at, message) for at, message in by_event[event_id] if at >= instant]
            at, first = at_or_after[0]
            assert (at, first["type"], first.get("event_id")) == (instant, "suspend", event_id), goal
            # The first prices after the goal come after the suspension, with the new score.
            prices = [(at, message) for at, message in at_or_after if message["type"] == "market"]
            if prices:
                assert prices[0][0] >= instant + SETTINGS.resume_after_s or prices[0][0] > timeline.full_time
    assert goals == 172


def test_no_price_of_a_suspended_event_is_sent_before_its_repricing(plan, messages):
    """Between a goal's suspension and its repricing, `resume_after_s` later, the event is
    silent: nothing priced before the goal and nothing priced in the confusion after it."""
    for timeline in plan.timelines:
        event_id = plan.event_id(timeline.match)
        for instant, _ in timeline.goals:
            within = [
                message
                for at, message in messages
                if instant < at < instant + SETTINGS.resume_after_s
                and message["type"] != "heartbeat"
                and event_of(message) == event_id
            ]
            assert {message["type"] for message in within} <= {"suspend"}


class ContractMarkets:
    """The market states that the contract's rules make of the messages, as PAM would hold them:
    a `market` message opens a market or replaces its prices (a suspended one stays suspended), a
    suspension of the event suspends all its markets, and every change of prices or status
    raises the market's version by one."""

    def __init__(self):
        self.status = {}
        self.version = {}
        self.prices = {}
        self.markets_of = defaultdict(set)

    def apply(self, message: dict) -> None:
        kind = message["type"]
        if kind == "market":
            market_id = message["market_id"]
            prices = {s["selection_id"]: s["price"] for s in message["selections"]}
            self.markets_of[message["event_id"]].add(market_id)
            changed = market_id not in self.status or prices != self.prices[market_id]
            self.status.setdefault(market_id, "open")
            self.prices[market_id] = prices
            self.version[market_id] = self.version.get(market_id, 0) + changed
        elif kind in {"suspend", "resume"}:
            market_ids = [message["market_id"]] if "market_id" in message else self.markets_of[message["event_id"]]
            for market_id in market_ids:
                self._set(market_id, "suspended" if kind == "suspend" else "open")
        elif kind == "result":
            self._set(message["market_id"], "settled")

    def _set(self, market_id: str, status: str) -> None:
        if self.status[market_id] != "settled" and self.status[market_id] != status:
            self.status[market_id] = status
            self.version[market_id] += 1


def test_replayed_by_the_contract_every_goal_suspends_its_event_until_it_is_repriced(plan, lines):
    """What the acceptance replay checks: at each goal every market of the event that is not
    settled is suspended (one that was open, at a higher version than its prices before the
    goal: a bet priced on them is refused), and none is open again before the repricing."""
    goals = sorted(
        (instant, plan.event_id(timeline.match)) for timeline in plan.timelines for instant, _ in timeline.goals
    )
    markets = ContractMarkets()
    before_goal = {}
    checked = outdated = 0
    for line in lines:
        # The versions a player could have priced a bet on, the instant before each goal.
        while goals and goals[0][0] == line["at"]:
            instant, event_id = goals.pop(0)
            before_goal[event_id] = (
                instant,
                {m: markets.version[m] for m in markets.markets_of[event_id] if markets.status[m] == "open"},
            )
        for message in line["body"]["messages"]:
            markets.apply(message)
        for event_id, (instant, versions) in list(before_goal.items()):
            market_ids = markets.markets_of[event_id]
            if line["at"] == instant:
                for market_id in market_ids:
                    assert markets.status[market_id] in {"suspended", "settled"}, (market_id, instant)
                    if market_id in versions:  # open until the goal: its prices are stale now
                        assert markets.version[market_id] > versions[market_id]
                        outdated += 1
                checked += 1
            elif line["at"] < instant + SETTINGS.resume_after_s:
                assert all(markets.status[m] != "open" for m in market_ids), (event_id, line["at"])
            else:
                del before_goal[event_id]
    assert checked == 172
    assert outdated > 172  # more than one market a goal: over/under is decided from the third on
    assert not goals


def test_prices_are_two_decimal_strings_above_one_and_books_carry_the_margin(messages):
    books = 0
    for _, message in messages:
        if message["type"] != "market":
            continue
        prices = {}
        for selection in message["selections"]:
            assert isinstance(selection["price"], str)
            assert PRICE.match(selection["price"]), selection
            prices[selection["selection_id"]] = Decimal(selection["price"])
            assert prices[selection["selection_id"]] > 1
        margin = Fraction(SETTINGS.margin)
        assert margin <= poisson.overround(prices) <= margin + poisson.rounding_allowance(prices), message
        books += 1
    assert books > 10_000


def test_results_are_the_real_scores(plan, messages):
    results = {message["market_id"]: message for _, message in messages if message["type"] == "result"}
    expected = {}
    for timeline in plan.timelines:
        match, event_id = timeline.match, plan.event_id(timeline.match)
        home, away = match.ft
        expected[f"{event_id}-1x2"] = "home" if home > away else "away" if home < away else "draw"
        expected[f"{event_id}-ou25"] = "over" if home + away > 2 else "under"
        if match.knockout:
            expected[f"{event_id}-qualify"] = match.qualified
    assert {market_id: result["winners"] for market_id, result in results.items()} == {
        market_id: [f"{market_id}-{winner}"] for market_id, winner in expected.items()
    }
    assert all(result["void"] == [] for result in results.values())
    # 64 match odds, 64 totals, 16 to qualify.
    assert len(results) == 144


def test_the_final_is_settled_on_90_minutes_then_on_the_shoot_out(plan, messages):
    final = plan.timelines[-1]
    results = [(at, message["market_id"]) for at, message in messages if message["type"] == "result"]

    assert [(at, market_id) for at, market_id in results if market_id.startswith("wc22-64")] == [
        (final.full_time, "wc22-64-1x2"),
        (final.full_time, "wc22-64-ou25"),
        (final.shoot_out_end, "wc22-64-qualify"),
    ]
    assert final.match.qualified == HOME
    # Mbappé's 118th-minute goal suspended the extra-time market too.
    (last_goal_at, last_goal) = final.goals[-1]
    assert (last_goal.minute, last_goal.team) == (118, AWAY)
    assert (last_goal_at, {"type": "suspend", "event_id": "wc22-64"}) in [
        (at, {k: v for k, v in message.items() if k != "seq"}) for at, message in messages
    ]


def test_nothing_is_sent_for_a_market_after_its_result(messages):
    settled = set()
    for _, message in messages:
        market_id = message.get("market_id")
        if market_id is None:
            continue
        assert market_id not in settled, message
        if message["type"] == "result":
            settled.add(market_id)


def test_in_play_markets_hear_from_the_feed_every_heartbeat_interval(plan, lines):
    instants = [line["at"] for line in lines]
    for timeline in plan.timelines:
        during = [at for at in instants if timeline.kickoff <= at <= timeline.end]
        gaps = [later - earlier for earlier, later in pairwise(during)]
        assert max(gaps) <= SETTINGS.heartbeat_s, timeline.match


def test_the_same_seed_writes_the_same_file_and_another_seed_another(lines, tmp_path):
    path = tmp_path / "worldcup.jsonl"

    written = write_feed_file(path, SETTINGS)

    text = path.read_text(encoding="utf-8")
    assert text == "".join(feedfile.dump_line(line) + "\n" for line in lines)
    assert written.lines == len(lines)
    assert written.messages == sum(len(line["body"]["messages"]) for line in lines)
    assert written.seconds == lines[-1]["at"]
    # Another seed draws other added times, goal seconds and strengths.
    opening = [feedfile.dump_line(line) for line in generate(build_plan(SETTINGS, numbers=[1]))]
    other = [feedfile.dump_line(line) for line in generate(build_plan(FeedSettings(seed=8), numbers=[1]))]
    assert opening != other


def test_one_match_alone_is_the_same_match_as_in_the_whole_file(messages, tmp_path):
    path = tmp_path / "final.jsonl"

    write_feed_file(path, SETTINGS, numbers=[64], start=datetime(2030, 1, 1, 12, tzinfo=UTC))

    alone = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert alone[0]["at"] == 0
    alone_messages = [(line["at"], message) for line in alone for message in line["body"]["messages"]]
    assert [m["seq"] for _, m in alone_messages] == list(range(1, len(alone_messages) + 1))
    event = alone_messages[0][1]
    assert (event["type"], event["event_id"]) == ("event", "wc22-64")
    # Kick-off is the lead after the start given, not 2022's.
    assert event["starts_at"] == "2030-01-01T13:00:00Z"

    def of_the_final(pairs):
        found = [(at, m) for at, m in pairs if m["type"] != "heartbeat" and event_of(m) == "wc22-64"]
        shift = found[0][0]
        return [(at - shift, {k: v for k, v in m.items() if k not in {"seq", "starts_at"}}) for at, m in found]

    assert of_the_final(alone_messages) == of_the_final(messages)
    assert {event_of(m) for _, m in alone_messages if m["type"] != "heartbeat"} == {"wc22-64"}


def test_the_command_line_writes_the_file(tmp_path, capsys):
    path = tmp_path / "opening.jsonl"

    feedfile.main([str(path), "--matches", "1", "--seed", "3"])

    assert path.read_text(encoding="utf-8").startswith('{"at":0,"body":{"messages":[{"seq":1,"type":"event"')
    assert capsys.readouterr().out.startswith(f"{path}: ")


def test_an_unknown_match_number_is_refused():
    with pytest.raises(ValueError, match=r"no such match: \[0, 65\]"):
        build_plan(SETTINGS, numbers=[1, 65, 0])
