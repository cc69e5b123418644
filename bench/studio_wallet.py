"""The studio's slot rounds through the seamless wallet's HTTP path: N rounds, each a signed `bet`
and then a `win`, sent by the studio's own wallet client to a PAM server started as `make serve`
does, then a retry storm, the ledger checked against the client's own sums, and `wallet_audit`
(docs/benchmarks.md, "Studio rounds through the wallet").

Two processes: this one starts the server, seeds the players and registers the studio as a
provider (`bench.seed` with the studio's code and secret), then runs `python -m
bench.studio_wallet play …` with the server's own environment, so that the client signs with the
settings the server checks (`STUDIO_PROVIDER_CODE`, `STUDIO_PROVIDER_SECRET`) and calls it
(`STUDIO_WALLET_URL`).

Each round draws its outcome with the production code (`catalogue.get("pam-slot").draw(rng.SYSTEM)`,
then the slot's `outcome` and `line_wins`), bets the fixed stake and wins what the lines pay (0
included: a zero win closes the round). Transaction ids are the round's id and the call
(`<run>-<round>:bet`, `…:win`), so a call re-sent is the same call.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from urllib.parse import urlsplit

ROUNDS = int(os.environ.get("BENCH_STUDIO_ROUNDS", str(10**5)))
PLAYERS = int(os.environ.get("BENCH_STUDIO_PLAYERS", "200"))
CONCURRENCY = int(os.environ.get("BENCH_STUDIO_CONCURRENCY", "8"))
# Rounds whose bet and win are re-sent in the retry storm, each call RESENDS times at once.
STORM = int(os.environ.get("BENCH_STUDIO_STORM", "1000"))
RESENDS = 3
LINE_STAKE = 10  # minor units per line: a round stakes ten lines, 1.00 EUR
CURRENCY = "EUR"
GAME = "pam-slot"


def studio_wallet_benchmark(workers: int) -> None:
    from bench.server import print_audit, served
    from tests.support import ROOT

    print(f"== studio rounds through the wallet API: {ROUNDS:,} slot rounds (bet + win) by the studio's wallet "
          f"client, {CONCURRENCY} concurrent players of {PLAYERS}, {workers} uvicorn workers; retry storm of "
          f"{min(STORM, ROUNDS):,} rounds x {RESENDS}")  # fmt: skip
    secret = secrets.token_hex(32)
    with served(workers, STUDIO_PROVIDER_SECRET=secret) as (host, port, env):
        code = env.get("STUDIO_PROVIDER_CODE", "pam-studio")
        # bench.seed registers the provider with `save_provider(code=…, secret=…)`: here the
        # studio's code and the very secret the server's settings hold.
        seeded = subprocess.run(
            [sys.executable, "-m", "bench.seed", str(PLAYERS), code, secret], cwd=ROOT, env=env,
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        player_ids = seeded.stdout.strip().split("\n")[0].split()
        _vacuum_analyze(env["DATABASE_URL"])
        play_env = {**env, "STUDIO_WALLET_URL": f"http://{host}:{port}", "DJANGO_SETTINGS_MODULE": "pam.settings"}
        done = subprocess.run(
            [sys.executable, "-m", "bench.studio_wallet", "play", *player_ids], cwd=ROOT, env=play_env, check=False
        )
        if done.returncode:
            print(f"the rounds' process exited with {done.returncode}: see above")
        print_audit(env)


def _vacuum_analyze(database_url: str) -> None:
    """Statistics for the freshly seeded tables (autovacuum is off here; see docs/benchmarks.md)."""
    import psycopg

    parts = urlsplit(database_url)
    with psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, dbname=parts.path[1:], autocommit=True
    ) as conn:
        conn.execute("VACUUM ANALYZE")


# --- the rounds' process ----------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def _ledger(code: str) -> dict[str, tuple[int, int]]:
    """{kind: (transactions, sum of their signed amounts)} of the studio's provider, by query."""
    from django.db.models import Count, Sum

    from apps.wallet.models import Transaction

    rows = (
        Transaction.objects.filter(origin=f"provider:{code}")
        .values("kind")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("kind")
    )
    return {row["kind"]: (row["n"], row["total"] or 0) for row in rows}


def play(player_ids: list[str]) -> int:
    """The rounds, the retry storm and the ledger's check; 0 when every check holds."""
    import asyncio
    import random

    import django

    django.setup()

    from django.conf import settings

    from apps.studio import catalogue, rng
    from apps.studio.wallet_client import WalletClient, WalletUnavailable

    game = catalogue.get(GAME)
    config = game.config
    stake = LINE_STAKE * len(config.paylines)
    run = secrets.token_hex(4)
    # The storm's rounds are chosen before the play, so that their first answers can be kept.
    storm = set(random.sample(range(ROUNDS), min(STORM, ROUNDS)))
    first_answers: dict[str, dict] = {}
    latencies: dict[str, list[float]] = {"bet": [], "win": []}
    refused: dict[str, int] = {}
    totals = {"bets": 0, "staked": 0, "wins": 0, "won": 0}

    def body(player_id: str, round_id: str, operation: str, amount: int) -> dict:
        return {"player_id": player_id, "currency": CURRENCY, "amount": amount,
                "transaction_id": f"{round_id}:{operation}", "round_id": round_id, "game_id": GAME}  # fmt: skip

    async def timed(client: WalletClient, operation: str, payload: dict):
        started = time.perf_counter()
        try:
            answer = await client.call(operation, payload)
        except WalletUnavailable:
            refused[f"{operation} unanswered"] = refused.get(f"{operation} unanswered", 0) + 1
            return None
        latencies[operation].append(time.perf_counter() - started)
        if not answer.ok:
            refused[f"{operation} {answer.code}"] = refused.get(f"{operation} {answer.code}", 0) + 1
            return None
        return answer

    started = [0.0]

    async def player_loop(client: WalletClient, lane: int, next_round: list[int], rounds: list) -> None:
        # Each lane owns every CONCURRENCY-th player, so no two of its rounds are one player's at once.
        mine = player_ids[lane::CONCURRENCY]
        turn = 0
        while next_round[0] < ROUNDS:  # bounded: each pass takes one round number
            index = next_round[0]
            next_round[0] += 1
            player_id = mine[turn % len(mine)]
            turn += 1
            round_id = f"{run}-{index}"
            stops = game.draw(rng.SYSTEM)
            win = sum(line.amount for line in config.line_wins(config.outcome(stops), LINE_STAKE))
            bet_answer = await timed(client, "bet", body(player_id, round_id, "bet", stake))
            if bet_answer is None:
                continue  # refused or unanswered: no win for a round whose bet did not stand
            totals["bets"] += 1
            totals["staked"] += stake
            win_answer = await timed(client, "win", body(player_id, round_id, "win", win))
            if win_answer is not None:
                totals["wins"] += 1
                totals["won"] += win
            if (index + 1) % max(1, ROUNDS // 10) == 0:
                print(f"  round {index + 1:,} played, {time.perf_counter() - started[0]:.0f} s", flush=True)
            if index in storm:
                rounds.append((player_id, round_id, win))
                first_answers[f"{round_id}:bet"] = bet_answer.body
                first_answers[f"{round_id}:win"] = win_answer.body if win_answer else {}

    async def main() -> tuple[float, list]:
        client = WalletClient()
        next_round, rounds = [0], []
        started[0] = time.perf_counter()
        await asyncio.gather(*(player_loop(client, lane, next_round, rounds) for lane in range(CONCURRENCY)))
        seconds = time.perf_counter() - started[0]
        await client.aclose()
        return seconds, rounds

    print(f"provider {settings.STUDIO_PROVIDER_CODE}, wallet {settings.STUDIO_WALLET_URL}, stake {stake} "
          f"({len(config.paylines)} lines x {LINE_STAKE}), run {run}", flush=True)  # fmt: skip
    seconds, stormed = asyncio.run(main())
    calls = len(latencies["bet"]) + len(latencies["win"])
    print(f"{ROUNDS:,} rounds in {seconds:.1f} s: {ROUNDS / seconds:.1f} rounds/s, {calls / seconds:.1f} calls/s; "
          f"bet p50 {_percentile(latencies['bet'], 50):.2f} ms p99 {_percentile(latencies['bet'], 99):.2f} ms; "
          f"win p50 {_percentile(latencies['win'], 50):.2f} ms p99 {_percentile(latencies['win'], 99):.2f} ms; "
          f"refused or unanswered: {refused or 'none'}")  # fmt: skip
    print(f"client's sums: {totals['bets']:,} bets staking {totals['staked']:,}, {totals['wins']:,} wins paying "
          f"{totals['won']:,} (RTP of these rounds {totals['won'] / max(1, totals['staked']):.4%})")  # fmt: skip

    code = settings.STUDIO_PROVIDER_CODE
    expected = {"bet": (totals["bets"], -totals["staked"]), "win": (totals["wins"], totals["won"])}
    before = _ledger(code)
    ledger_ok = before == expected
    print(f"ledger of provider:{code} (count, signed sum): {before}; the client's: {expected}: "
          f"{'equal' if ledger_ok else 'DIFFERENT'}")  # fmt: skip

    async def storm_main() -> tuple[int, int, float]:
        client = WalletClient()
        limit = asyncio.Semaphore(CONCURRENCY)
        same = different = 0

        async def resend(operation: str, player_id: str, round_id: str, amount: int) -> None:
            nonlocal same, different
            async with limit:
                try:
                    answer = await client.call(operation, body(player_id, round_id, operation, amount))
                except WalletUnavailable:
                    different += 1
                    return
            if answer.ok and answer.body == first_answers[f"{round_id}:{operation}"]:
                same += 1
            else:
                different += 1

        started = time.perf_counter()
        await asyncio.gather(*(
            resend(operation, player_id, round_id, stake if operation == "bet" else win)
            for player_id, round_id, win in stormed for operation in ("bet", "win") for _ in range(RESENDS)
        ))  # fmt: skip
        seconds = time.perf_counter() - started
        await client.aclose()
        return same, different, seconds

    same, different, storm_seconds = asyncio.run(storm_main())
    after = _ledger(code)
    storm_ok = different == 0 and after == before
    calls = same + different
    print(f"retry storm: {len(stormed):,} rounds' bet and win re-sent {RESENDS} times each ({calls:,} calls, "
          f"{calls / storm_seconds:.0f}/s): {same:,} answered exactly as the first time, {different} not; "
          f"ledger after {after}: {'unchanged' if after == before else 'CHANGED'}")  # fmt: skip
    verdict = ledger_ok and storm_ok and not refused and totals["bets"] == totals["wins"] == ROUNDS
    print(f"target (every round answered, ledger equals the client's sums, the storm moves nothing): "
          f"{'met' if verdict else 'NOT MET'}")  # fmt: skip
    return 0 if verdict else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["play"]:
        sys.exit(play(sys.argv[2:]))
    studio_wallet_benchmark(int(os.environ.get("WORKERS", "2")))
