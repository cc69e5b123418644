"""The odds benchmark's accounting (bench/odds.py): how the sockets' frames are read against what
the feed sent and what the watchdog did. No timing is asserted; the benchmark prints it."""

import json

from bench import odds
from bench.odds import Suspension, account


def test_home_prices_name_a_market_s_repricings():
    prices = [odds.home_price(k) for k in range(9000)]
    assert prices[:3] == ["2.00", "2.01", "2.02"]
    assert prices[-1] == "91.99"
    assert len(set(prices)) == 9000  # (market, home price) names one repricing of the run
    assert odds.home_price(9000) == "2.00"


def test_a_repricing_is_timed_by_its_first_open_frame_at_each_socket():
    answers = {("m1", "2.01"): 100.0}
    socket = [
        ("m1", 1, "open", False, "2.00", 99.0),  # the snapshot: no repricing of the run's
        ("m1", 2, "open", False, "2.01", 100.010),
        ("m1", 3, "suspended", True, "2.01", 104.0),  # the same price, suspended: not a repricing
    ]
    other = [("m1", 2, "open", False, "2.01", 100.030), ("m1", 3, "suspended", True, "2.01", 104.0)]
    figures = account([socket, other], answers, [], {"m1": (3, "suspended")})
    assert [round(v, 6) for v in figures.price_ms] == [10.0, 30.0]
    assert (figures.superseded, figures.backwards, figures.repeats, figures.lost) == (0, 0, 0, 0)
    assert figures.frames == 5


def test_frames_out_of_version_order_and_lost_markets_are_counted():
    socket = [
        ("m1", 2, "open", False, "2.00", 1.0),
        ("m1", 3, "suspended", True, "2.00", 2.0),
        ("m1", 3, "suspended", False, "2.00", 3.0),  # the same version with the other `delayed`: allowed
        ("m1", 3, "suspended", False, "2.00", 4.0),  # a repeat
        ("m1", 1, "open", False, "2.00", 5.0),  # backwards
    ]
    figures = account([socket, []], {("m1", "2.05"): 0.5}, [], {"m1": (3, "suspended")})
    assert (figures.backwards, figures.repeats) == (1, 1)
    assert figures.lost == 2  # the first socket ends at version 1; the second never heard of m1
    assert figures.superseded == 2  # neither socket saw the repricing at 2.05


def test_suspension_frames_are_timed_from_the_commit_and_missing_ones_counted():
    suspension = Suspension(stale_since=10.0, limit_at=9.9, versions={"m1": 4, "m2": 7}, committed_at=10.04)
    sockets = [
        [("m1", 4, "suspended", True, "2.00", 10.05), ("m2", 7, "suspended", True, "2.00", 10.10)],
        [("m1", 4, "suspended", True, "2.00", 10.06), ("m2", 6, "open", False, "2.00", 9.0)],
    ]
    figures = account(sockets, {}, [suspension], {"m1": (4, "suspended"), "m2": (7, "suspended")})
    assert [round(v, 6) for v in figures.commit_ms] == [10.0, 60.0, 20.0]
    assert [round(v, 6) for v in figures.suspension_ms] == [50.0, 100.0, 60.0]
    assert [round(v, 6) for v in figures.limit_ms] == [150.0, 200.0, 160.0]
    assert [round(v, 6) for v in figures.first_ms] == [10.0]
    assert figures.suspension_missing == 1
    assert figures.lost == 1


def test_verdicts():
    on_time = Suspension(stale_since=11.0, limit_at=10.0, versions={})
    late = Suspension(stale_since=11.001, limit_at=10.0, versions={})
    assert odds.staleness_met([on_time, on_time], cycles=2)
    assert not odds.staleness_met([on_time, late], cycles=2)
    assert not odds.staleness_met([on_time], cycles=2)  # a cycle whose suspension never came
    # Suspended when committed: a decision on time whose commit came after 1 s is late.
    assert not odds.staleness_met([Suspension(stale_since=10.9, limit_at=10.0, versions={}, committed_at=11.01)], 1)
    # realtime.percentile is nearest-rank from above: of 100 values the p99 is the largest.
    assert odds.fanout_met(odds.summary([50.0] * 99 + [100.0]), missing=0)
    assert not odds.fanout_met(odds.summary([50.0] * 99 + [100.001]), missing=0)
    assert odds.fanout_met(odds.summary([50.0] * 199 + [250.0]), missing=0)  # 1 in 200 may be late
    assert not odds.fanout_met(odds.summary([50.0]), missing=1)
    assert not odds.fanout_met(odds.summary([]), missing=0)


def test_the_watchdog_s_commit_is_read_from_its_log_line():
    line = {"feed": "bench-odds", "silent_since": "2026-12-05T10:11:28.616488+00:00", "suspended": 9,
            "event": "sportsbook.feed_stale", "timestamp": "2026-12-05T10:11:31.662658Z"}  # fmt: skip
    log = "outbox_sweeper: sweeping every 2.0 s\n" + json.dumps(line) + "\n"
    silent_since = odds.parse_time("2026-12-05T10:11:28.616488+00:00")
    assert odds.watchdog_commit(log, "bench-odds", silent_since) == odds.parse_time("2026-12-05T10:11:31.662658Z")
    assert odds.watchdog_commit(log, "bench-odds", silent_since + 1) is None
    assert odds.watchdog_commit(log, "another", silent_since) is None
