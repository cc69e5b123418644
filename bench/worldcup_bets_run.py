"""The World Cup replay with bets, in a process of its own (run by bench/worldcup_bets.py as
`python -m bench.worldcup_bets_run` with the bench environment, on a migrated database): the
sandbox's feed file of the 64 matches replayed on a fake clock with players betting on it
(apps/sportsbook/sandbox/replay_bets.py). Prints one JSON line: the tally, the file's size and
the seconds it took."""

import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from apps.common.idempotency import ExternalRef  # noqa: E402
from apps.sportsbook import services  # noqa: E402
from apps.sportsbook.sandbox.feedfile import FeedSettings, build_plan, write_feed_file  # noqa: E402
from apps.sportsbook.sandbox.replay_bets import replay_with_bets  # noqa: E402
from apps.wallet import services as wallet  # noqa: E402
from apps.wallet.choices import TransactionKind  # noqa: E402
from bench.seed import FUNDS, make_players  # noqa: E402


def main(quiet_every_s: float) -> None:
    settings = FeedSettings()
    plan = build_plan(settings)
    path = Path(os.environ["PAM_DATA_DIR"]) / "worldcup-bets.jsonl"
    written = write_feed_file(path, settings)
    feed = services.save_feed(code="bench-worldcup", secret=os.urandom(16).hex())
    players = make_players(8, prefix="worldcup")
    for player in players:
        wallet.credit(
            player_id=player.pk, currency="EUR", amount=FUNDS, kind=TransactionKind.DEPOSIT,
            ref=ExternalRef("bench-seed", str(player.pk), "seed"), counter="clearing:bench",
        )  # fmt: skip
    started = time.monotonic()
    tally = replay_with_bets(path, feed.pk, plan, players, quiet_every_s=quiet_every_s)
    print(json.dumps({**asdict(tally), "matches": len(plan.timelines), "messages": written.messages,
                      "file_seconds": written.seconds, "seconds": time.monotonic() - started}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main(float(sys.argv[1]))
