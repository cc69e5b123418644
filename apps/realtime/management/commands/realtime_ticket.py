from django.core.management.base import BaseCommand, CommandError

from apps.accounts import selectors as accounts
from apps.realtime import services


class Command(BaseCommand):
    help = "Print a fresh one-time WebSocket ticket (60 seconds) for a player: /ws/player/?ticket=T."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        player = accounts.find_player_by_username(username)
        if player is None:
            raise CommandError(f"no player {username!r}")
        self.stdout.write(services.issue_ticket(player=player))
