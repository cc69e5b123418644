"""One-time WebSocket tickets for the real-time benchmark, issued in bulk through the realtime
service (run as `python -m bench.rt_tickets` with the bench environment, as a co-process).

Reads lines of player ids separated by spaces on stdin and answers each with one line of as many
tickets, in the same order. Tickets live 60 seconds, so the benchmark asks for each batch just
before it connects with it. Ends at end of input.
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from apps.accounts.models import Player  # noqa: E402
from apps.realtime.services import issue_ticket  # noqa: E402


def main() -> None:
    players: dict[str, Player] = {}
    for line in sys.stdin:
        ids = line.split()
        missing = [i for i in ids if i not in players]
        if missing:
            players.update((str(p.pk), p) for p in Player.objects.filter(pk__in=missing))
        print(" ".join(issue_ticket(player=players[i]) for i in ids), flush=True)


if __name__ == "__main__":
    main()
