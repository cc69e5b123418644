"""Django's `migrate`, one process at a time per database (apps/common/locks.py)."""

from django.core.management.commands.migrate import Command as DjangoMigrate

from apps.common.locks import migrations_lock


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        with migrations_lock(options["database"]):
            return super().handle(*args, **options)
