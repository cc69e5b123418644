from django.core.management.base import BaseCommand, CommandError

from apps.sportsbook import services


class Command(BaseCommand):
    help = "Create an odds feed, or give it a new secret (sandbox set-up). Prints the feed's code."

    def add_arguments(self, parser):
        parser.add_argument("code", help="the feed's code: what it sends as X-Feed")
        parser.add_argument("--secret", required=True, help="the key of the feed's HMAC signatures")

    def handle(self, *args, code, secret, **options):
        try:
            feed = services.save_feed(code=code, secret=secret)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(feed.code)
