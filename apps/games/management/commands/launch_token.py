from django.core.management.base import BaseCommand, CommandError

from apps.accounts import selectors as accounts
from apps.games import services
from apps.games.models import Provider


class Command(BaseCommand):
    help = "Print a fresh one-time launch token (10 minutes) for a player and a provider."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--provider", required=True)

    def handle(self, *args, username, provider, **options):
        player = accounts.find_player_by_username(username)
        if player is None:
            raise CommandError(f"no player {username!r}")
        found = Provider.objects.filter(code=provider).first()
        if found is None:
            raise CommandError(f"no provider {provider!r}")
        self.stdout.write(services.issue_launch_token(player=player, provider=found))
