"""The World Cup replay with bets, whole (the tests replay a sample of two matches): the 64 matches
of the sandbox's feed file (docs/sportsbook-sandbox.md) replayed on a fake clock through the feed
endpoint's path, with players betting in play before every goal, while its markets are suspended,
and in quiet stretches (apps/sportsbook/sandbox/replay_bets.py), on a database of the run's own.

It prints the counts and the targets: 100 % of the bets priced before a goal and released after it
rejected MARKET_SUSPENDED, 100 % of the bets tried while suspended refused at once, 100 % of the
quiet ones accepted, nothing else.

`BENCH=worldcup_bets python -m bench` runs it. Knobs: BENCH_WORLDCUP_QUIET_EVERY_S (600: a quiet
bet per market at most this often, in the file's seconds), BENCH_WORLDCUP_DATABASE
(pam_bench_worldcup).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.realtime import verdict
from bench.server import bench_env, create_database, manage
from tests.support import ROOT

QUIET_EVERY_S = float(os.environ.get("BENCH_WORLDCUP_QUIET_EVERY_S", "600"))
DATABASE = os.environ.get("BENCH_WORLDCUP_DATABASE", "pam_bench_worldcup")
RUN_WAIT = 3 * 3600  # seconds at most for the whole replay


def met(tally: dict) -> bool:
    """Every bet of each kind did what it must, and there were some of each."""
    return (
        not tally["unexpected"]
        and tally["before_goal"] == tally["before_goal_rejected"] > 0
        and tally["while_suspended"] == tally["while_suspended_refused"] > 0
        and tally["quiet"] == tally["quiet_accepted"] > 0
    )


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def worldcup_bets_benchmark(_workers: int) -> None:
    print(f"== worldcup_bets: the 64 matches' feed file replayed on a fake clock with bets before every goal, "
          f"while suspended and in quiet stretches (one per market per {QUIET_EVERY_S:g} s at most)",
          flush=True)  # fmt: skip
    env = {**bench_env(DATABASE), "LOG_LEVEL": "ERROR"}
    os.makedirs(env["PAM_DATA_DIR"], exist_ok=True)
    create_database(DATABASE)
    manage(env, "migrate", "--noinput")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.worldcup_bets_run", str(QUIET_EVERY_S)], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=RUN_WAIT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        print(f"STOPPED: the replay did not end within {RUN_WAIT} s", flush=True)
        return
    if done.returncode != 0:
        print(f"STOPPED: the replay failed:\n{done.stderr[-3000:]}", flush=True)
        return
    tally = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"   {tally['matches']} matches, {tally['messages']} messages, {tally['goals']} goals, replayed in "
          f"{tally['seconds']:.0f} s", flush=True)  # fmt: skip
    print(f"   priced before a goal, released after it: {tally['before_goal_rejected']} of {tally['before_goal']} "
          f"rejected MARKET_SUSPENDED ({share(tally['before_goal_rejected'], tally['before_goal'])}, target 100 %)",
          flush=True)  # fmt: skip
    print(f"   tried while suspended: {tally['while_suspended_refused']} of {tally['while_suspended']} refused at "
          f"once ({share(tally['while_suspended_refused'], tally['while_suspended'])}, target 100 %)",
          flush=True)  # fmt: skip
    print(f"   quiet (no word of the market during the delay): {tally['quiet_accepted']} of {tally['quiet']} "
          f"accepted ({share(tally['quiet_accepted'], tally['quiet'])}, target 100 %)", flush=True)  # fmt: skip
    for line in tally["unexpected"][:20]:
        print(f"   UNEXPECTED {line}", flush=True)
    print(f"   {verdict(met(tally))}", flush=True)
