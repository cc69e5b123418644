"""`manage.py feed_replay FILE [--speed N] [--feed CODE] [--url URL --secret S]`: replay a
recorded feed file with its timing (apps/sportsbook/replay.py, docs/sportsbook.md). Without
`--feed`: the feed `sandbox`, or the database's only feed when there is no `sandbox` (the one
`create_feed` made)."""

from django.core.management.base import BaseCommand, CommandError

from apps.common.errors import PamError
from apps.sportsbook import replay, selectors

DEFAULT_FEED = "sandbox"


class Command(BaseCommand):
    help = (
        "Replay a recorded feed file (JSON lines {at, body}, or bodies alone) with its original timing, compressed "
        "by --speed: through the feed endpoint's parsing and service in this process, or POSTed signed to --url."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the feed file (python -m apps.sportsbook.sandbox.feedfile writes one)")
        parser.add_argument("--speed", type=float, default=1.0, help="N times faster than recorded (default 1)")
        parser.add_argument(
            "--feed", help=f"the feed's code (default {DEFAULT_FEED}, or the only feed there is; create_feed makes one)"
        )
        parser.add_argument("--url", help="POST each body, signed, to this feed endpoint instead of applying it here")
        parser.add_argument("--secret", help="with --url: the feed's secret on that server (default: this database's)")

    def handle(self, *args, file, speed, feed, url, secret, **options):
        if speed <= 0:
            raise CommandError("--speed must be above 0.")
        if feed is None:
            feed = self._default_feed()
        if url is None:
            found = selectors.get_feed(feed)
            if found is None:
                raise CommandError(f"No feed {feed!r}: create it with `manage.py create_feed {feed} --secret S`.")
            send = replay.in_process(found.pk)
        else:
            if secret is None:
                found = selectors.get_feed(feed)
                if found is None:
                    raise CommandError("--url needs --secret, or the feed in this database.")
                secret = found.secret
            send = replay.over_http(url, feed, secret)

        def progress(at: float, done: replay.Replayed) -> None:
            if done.lines % 500 == 0:
                self.stdout.write(f"feed_replay: at {at:.0f} s, {done.lines} lines, {done.applied} applied")

        try:
            done = replay.replay(replay.read_lines(file), send, speed=speed, each=progress)
        except (OSError, replay.ReplayError) as error:
            raise CommandError(str(error)) from None
        except PamError as refused:
            raise CommandError(f"the feed's body was refused: {refused.code}: {refused}") from None
        self.stdout.write(f"feed_replay: {done.lines} lines, {done.applied} messages applied, {done.skipped} skipped")

    def _default_feed(self) -> str:
        codes = selectors.feed_codes()
        if DEFAULT_FEED in codes or len(codes) != 1:
            return DEFAULT_FEED  # missing: refused below, with how to create it
        self.stdout.write(f"feed_replay: for the feed {codes[0]!r}, the only one")
        return codes[0]
