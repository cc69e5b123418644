"""Sandbox set-up: create or update a payment provider; prints its code on the last line."""

from django.core.management.base import BaseCommand

from apps.payments import services
from apps.payments.choices import AdapterName


class Command(BaseCommand):
    help = "Create or update a payment provider (the PSP's adapter and webhook secret); prints its code."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--webhook-secret", required=True)
        parser.add_argument("--adapter", choices=AdapterName.values, default=AdapterName.SANDBOX)
        parser.add_argument("--disabled", action="store_true")

    def handle(self, *args, code, webhook_secret, adapter, disabled, **options):
        provider = services.save_provider(code=code, webhook_secret=webhook_secret, adapter=adapter,
                                          enabled=not disabled)  # fmt: skip
        self.stdout.write(provider.code)
