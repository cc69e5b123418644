from django.core.management.base import BaseCommand

from apps.games import services


class Command(BaseCommand):
    help = "Create a game provider, or update its secret (sandbox set-up). Prints the provider code."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--secret", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--disabled", action="store_true", help="refuse all of its calls")

    def handle(self, *args, code, secret, name, disabled, **options):
        provider = services.save_provider(code=code, secret=secret, name=name, enabled=not disabled)
        self.stdout.write(provider.code)
