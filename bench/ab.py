"""Two versions of PAM served at once, the loads alternating between them: CPU per bet of each.

A change on the bet path moves a bet's cost by a few per cent, and this machine's speed drifts by
more than that between two runs of `make bench`. Here both versions run side by side (each its
own checkout, database and two uvicorn workers, served as `BENCH=sportsbook` serves them), and
each slice of load goes to one of them, A then B, then B then A, so that a drift of the machine
lands on both. It reports, per version and kind of bet, the median over the pairs of the CPU
seconds its workers and PostgreSQL spent per bet (read from `/proc` around each slice: only the
loaded version's workers are busy then), its rate, and (s)/(a) by pair.

    .venv/bin/python -m bench.ab /path/to/checkout-a /path/to/checkout-b

Two servers of one revision are not alike: run against itself (an A/A run), B's bets cost 5 % and
11 % less than A's in two runs (2026-12-06, the same checkout in each slot, then swapped). So run
a comparison both ways (A/B, then B/A) and take a change for real only when it holds in both and
is larger than that. A checkout is a `git worktree` of the revision to compare (`git worktree add ../pam-a HEAD~1`);
both run on this checkout's virtualenv. Knobs: AB_PAIRS (6), AB_SECONDS (5, per slice), AB_KINDS
(`sa`: `s` the sportsbook single, `a` the casino bet; bench/sportsbook.py's requests), and
BENCH_SPORTSBOOK_* as `BENCH=sportsbook` reads them. Each version's database is
`pam_ab_a` / `pam_ab_b`, made afresh.

With `--serve` it is the helper that serves one checkout (the current directory): it prints the
server's address and its seeded players, bets and tokens as one line of JSON, and stays up until
its standard input closes.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
from pathlib import Path

PAIRS = int(os.environ.get("AB_PAIRS", "6"))
SECONDS = float(os.environ.get("AB_SECONDS", "5"))
KINDS = os.environ.get("AB_KINDS", "sa")
CONCURRENCY = 8
WARM_SECONDS = 1.5


def serve() -> None:
    """The helper: this checkout served and seeded, its coordinates on stdout. Run as a script of
    the comparing checkout (an older one may not have this module): its imports are the served
    checkout's, so it seeds as `BENCH=sportsbook` does in its own steps rather than through a
    helper that an older checkout would lack."""
    sys.path[0] = os.getcwd()
    from bench import sportsbook
    from bench.server import served
    from tests.support import ROOT

    if Path(ROOT) != Path.cwd():
        raise SystemExit(f"run --serve from the checkout to serve ({ROOT} is imported)")
    with served(2, **sportsbook.LIMITS) as (host, port, env):
        provider, secret = "bench", secrets.token_hex(32)
        seeded = subprocess.run(
            [sys.executable, "-m", "bench.seed", str(sportsbook.PLAYERS), provider, secret], cwd=ROOT, env=env,
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        players = seeded.stdout.split("\n")[0].split()
        book = subprocess.run(
            [sys.executable, "-m", "bench.sportsbook_setup", "markets", str(sportsbook.EVENTS),
             str(sportsbook.MARKETS), *players],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        print(json.dumps({"host": host, "port": port, "provider": provider, "secret": secret, "players": players,
                          "book": json.loads(book.stdout)}), flush=True)  # fmt: skip
        sys.stdin.read()


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _processes() -> dict[int, tuple[str, int]]:
    """{pid: (command line, parent pid)} of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found[int(entry)] = (command, _parent_of(int(entry)))
            except OSError:
                continue
    return found


def _cpu(pids: list[int]) -> float:
    from bench.profiling import backend_cpu_of  # here: the helper (`--serve`) starts without `bench` on its path

    total = 0.0
    for pid in pids:
        try:
            total += backend_cpu_of(pid)  # any process's, a worker's as well as a backend's
        except OSError:
            continue  # a backend that ended
    return total


def compare(checkouts: dict[str, str]) -> None:
    from bench import sportsbook
    from bench.load import run_load
    from bench.wallet import bet_requests

    helpers = {}
    for name, checkout in checkouts.items():
        env = {**os.environ, "BENCH_DATABASE": f"pam_ab_{name.lower()}"}
        helpers[name] = subprocess.Popen(
            [sys.executable, __file__, "--serve"], cwd=checkout, env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
    try:
        servers = {name: json.loads(helper.stdout.readline()) for name, helper in helpers.items()}
        processes = _processes()
        for server in servers.values():
            [main] = [pid for pid, (command, _) in processes.items()
                      if "uvicorn" in command and f"--port {server['port']} " in f"{command} "]  # fmt: skip
            server["workers"] = [pid for pid, (_, parent) in processes.items() if parent == main]
            server["loads"] = {
                "a": (bet_requests(server["provider"], server["secret"], server["players"]), lambda s, _: s == 200),
                "s": (sportsbook.sportsbook_requests(server["book"]["tokens"], server["book"]["legs"]),
                      sportsbook._accepted),
            }  # fmt: skip
        print(f"== A/B: {' vs '.join(f'{name} {path}' for name, path in checkouts.items())}; {PAIRS} pairs of "
              f"{SECONDS:.0f} s slices, c={CONCURRENCY}")  # fmt: skip
        results: dict[tuple[str, str], list[tuple[float, float, float, int]]] = {
            (name, kind): [] for name in checkouts for kind in KINDS
        }
        for pair in range(PAIRS):
            order = list(checkouts) if pair % 2 == 0 else list(reversed(checkouts))
            for kind in KINDS:
                for name in order:
                    server = servers[name]
                    make, ok = server["loads"][kind]
                    load = {"concurrency": CONCURRENCY, "max_requests": 10**6, "ok": ok, "workers": 2}
                    run_load(kind, server["host"], server["port"], make, duration=WARM_SECONDS, **load)
                    postgres = [pid for pid, (command, _) in _processes().items() if command.startswith("postgres")]
                    workers0, postgres0 = _cpu(server["workers"]), _cpu(postgres)
                    done = run_load(kind, server["host"], server["port"], make, duration=SECONDS, **load)
                    bets = max(done.rate * done.seconds, 1)
                    results[(name, kind)].append((
                        (_cpu(server["workers"]) - workers0) / bets * 1e6, (_cpu(postgres) - postgres0) / bets * 1e6,
                        done.rate, done.errors,
                    ))  # fmt: skip
        for (name, kind), rows in results.items():
            workers = statistics.median(row[0] for row in rows)
            postgres = statistics.median(row[1] for row in rows)
            print(f"{name} ({kind}) CPU per bet: workers {workers:5.0f} us, PostgreSQL {postgres:5.0f} us, "
                  f"together {workers + postgres:5.0f} us; {statistics.median(row[2] for row in rows):4.0f}/s; "
                  f"errors {sum(row[3] for row in rows)}; together by pair "
                  f"{' '.join(f'{row[0] + row[1]:.0f}' for row in rows)}")  # fmt: skip
        if set(KINDS) >= {"s", "a"}:
            for name in checkouts:
                pairs = [s[2] / a[2] for s, a in zip(results[(name, "s")], results[(name, "a")], strict=True) if a[2]]
                print(f"{name} (s)/(a) by pair {' '.join(f'{r:.2f}' for r in pairs)}, "
                      f"median {statistics.median(pairs):.2f}")  # fmt: skip
    finally:
        for helper in helpers.values():
            helper.stdin.close()
        for helper in helpers.values():
            helper.wait()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    elif len(sys.argv) == 3:
        compare({"A": sys.argv[1], "B": sys.argv[2]})
    else:
        raise SystemExit(__doc__)
