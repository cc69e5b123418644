"""The production RNG through dieharder: raw bytes written by `manage.py rng_dump --bytes N FILE`,
then a standard subset of dieharder's tests on that file (`dieharder -g 201 -f FILE -d TEST`),
each test's assessment printed (docs/benchmarks.md, "RNG").

dieharder reads a file generator from its start and rewinds it when it runs out, reusing bytes it
has already tested: the test then sees repeated data and can fail a perfect generator. N (1 GiB by
default, `BENCH_RNG_BYTES`) is chosen so that no test of the subset rewinds; the run prints each
test's rewinds, and a test that rewound is reported as such, not as evidence.

The target is no FAILED. dieharder calls a p-value WEAK outside [0.005, 0.995] and FAILED outside
[0.000001, 0.999999]: a perfect generator is WEAK on 1 % of the p-values (the run prints how many
to expect) and FAILED on 2 in a million.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.server import bench_env, manage

N_BYTES = int(os.environ.get("BENCH_RNG_BYTES", str(1 << 30)))
# dieharder's tests rated "Good" in `dieharder -l` that read at most ~1 GiB at their defaults
# (measured: none of them rewinds a 1 GiB file). Left out: the Diehard OPSO, OQSO and DNA tests
# ("Suspect") and Sums ("Do Not Use") by dieharder's own rating; the Marsaglia-Tsang GCD test
# (17), which reads ~8 GB; RGB bit distribution (200), which needs an ntuple of its own; RGB
# generalized minimum distance (201), which took three minutes on 256 MiB and failed the OS's
# CSPRNG there at its defaults.
TESTS = tuple(
    int(t)
    for t in os.environ.get(
        "BENCH_RNG_TESTS", "0,1,2,3,4,8,9,10,11,12,13,15,16,100,101,102,202,203,204,205,206,207,208,209"
    ).split(",")
)
WEAK = 0.005  # dieharder's default thresholds (-W, -X), two-sided
FAIL = 0.000001
TIMEOUT = 600  # seconds per test: every run is bounded

_ROW = re.compile(r"^\s*(\S+)\|\s*(\d+)\|\s*(\d+)\|\s*(\d+)\|([0-9.]+)\|\s*(PASSED|WEAK|FAILED)\s*$")
_REWOUND = re.compile(r"rewound (\d+) times")


@dataclass
class Outcome:
    test: int
    rows: list[tuple[str, int, float, str]] = field(default_factory=list)  # name, ntup, p, assessment
    rewinds: int = 0
    seconds: float = 0.0
    error: str = ""


def parse(test: int, output: str) -> Outcome:
    """The p-value rows and the rewinds of one `dieharder -d TEST` run."""
    outcome = Outcome(test)
    for line in output.splitlines():
        if match := _ROW.match(line):
            name, ntup, _tsamples, _psamples, p, assessment = match.groups()
            outcome.rows.append((name, int(ntup), float(p), assessment))
        elif match := _REWOUND.search(line):
            outcome.rewinds = max(outcome.rewinds, int(match[1]))
    if not outcome.rows:
        outcome.error = output.strip()[-300:] or "no result"
    return outcome


def run_test(path: Path, test: int) -> Outcome:
    started = time.perf_counter()
    try:
        done = subprocess.run(
            ["dieharder", "-g", "201", "-f", str(path), "-d", str(test)],
            capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
        outcome = parse(test, done.stdout + done.stderr)
    except subprocess.TimeoutExpired:
        outcome = Outcome(test, error=f"no result within {TIMEOUT} s")
    outcome.seconds = time.perf_counter() - started
    return outcome


def rng_benchmark(_workers: int = 0) -> None:
    print(f"== RNG: dieharder on {N_BYTES:,} bytes of the production RNG (manage.py rng_dump --bytes), "
          f"{len(TESTS)} tests")  # fmt: skip
    if shutil.which("dieharder") is None:
        print("dieharder is not installed (make bench installs it: apt-get install dieharder); RNG benchmark NOT RUN")
        return
    env = bench_env()
    directory = Path(env["PAM_DATA_DIR"])
    directory.mkdir(exist_ok=True)
    path = directory / "rng_dump.bin"
    started = time.perf_counter()
    try:
        manage(env, "rng_dump", "--bytes", str(N_BYTES), str(path))
        print(f"rng_dump wrote {path.stat().st_size:,} bytes in {time.perf_counter() - started:.1f} s")
        outcomes = []
        for test in TESTS:
            outcome = run_test(path, test)
            outcomes.append(outcome)
            rewound = f"REWOUND {outcome.rewinds} times: not evidence" if outcome.rewinds else "no rewind"
            if outcome.error:
                print(f"-d {test:<3} ERROR {outcome.error!r} ({outcome.seconds:.1f} s)")
            elif len(outcome.rows) <= 2:
                for name, ntup, p, assessment in outcome.rows:
                    print(f"-d {test:<3} {name:<22} ntup {ntup:<2} p = {p:.8f}  {assessment:<6}  {rewound}  "
                          f"({outcome.seconds:.1f} s)")  # fmt: skip
            else:  # sts_serial: one p-value per tuple size, summed up on one line
                ps = [row[2] for row in outcome.rows]
                tally = ", ".join(f"{sum(r[3] == a for r in outcome.rows)} {a}" for a in ("PASSED", "WEAK", "FAILED"))
                print(f"-d {test:<3} {outcome.rows[0][0]:<22} {len(ps)} p-values in [{min(ps):.8f}, {max(ps):.8f}]: "
                      f"{tally}  {rewound}  ({outcome.seconds:.1f} s)")  # fmt: skip
    finally:
        path.unlink(missing_ok=True)
    rows = [row for outcome in outcomes for row in outcome.rows]
    counts = {a: sum(row[3] == a for row in rows) for a in ("PASSED", "WEAK", "FAILED")}
    rewound = [o.test for o in outcomes if o.rewinds]
    errors = [o.test for o in outcomes if o.error]
    print(f"{len(rows)} p-values from {len(outcomes)} tests: {counts['PASSED']} PASSED, {counts['WEAK']} WEAK "
          f"(a perfect generator: {2 * WEAK * len(rows):.2f} expected), {counts['FAILED']} FAILED "
          f"(expected {2 * FAIL * len(rows):.5f}); rewound: {rewound or 'none'}; errors: {errors or 'none'}; "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    met = not counts["FAILED"] and not rewound and not errors
    print(f"target (no FAILED, no test on rewound data): {'met' if met else 'NOT MET'}")


if __name__ == "__main__":
    rng_benchmark()
