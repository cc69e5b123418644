"""Complete or roll back the studio's rounds left unfinished by a crash (docs/studio.md, "Recovery")."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand

from apps.studio import recovery


class Command(BaseCommand):
    help = "Complete (win sent again) or roll back the studio's unfinished rounds untouched for a while."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--stale-after",
            type=float,
            default=recovery.STALE_AFTER.total_seconds(),
            help="only rounds untouched for this many seconds (default %(default)s)",
        )
        parser.add_argument("--player", default=None, help="only this player's rounds (PAM's player id)")

    def handle(self, *args, stale_after: float, player: str | None, **options) -> None:
        stale = dt.timedelta(seconds=max(stale_after, 0))
        total = 0
        # In batches until a pass finishes nothing; bounded by the rounds there are.
        for _ in range(10_000):
            done = recovery.recover(stale_after=stale, player_id=player)
            total += done
            if done == 0:
                break
        self.stdout.write(f"rounds recovered: {total}")
        self.stdout.write(str(total))
