from django.core.management.base import BaseCommand

from apps.games import services


class Command(BaseCommand):
    help = "Create a game provider, or update its secret (sandbox set-up). Prints the provider code."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--secret", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--disabled", action="store_true", help="refuse all of its calls")
        parser.add_argument(
            "--launch-url",
            default=None,
            help="where its games open, {game} for the game's code (docs/games.md); omitted: unchanged",
        )

    def handle(self, *args, code, secret, name, disabled, launch_url, **options):
        provider = services.save_provider(
            code=code, secret=secret, name=name, enabled=not disabled, launch_url=launch_url
        )
        self.stdout.write(provider.code)
