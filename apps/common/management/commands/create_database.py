"""`manage.py create_database`: create the PostgreSQL database that DATABASE_URL names, when it
is not there yet (`make serve` runs it before `migrate`, so that a fresh machine needs no step
by hand). Connects to the server's maintenance database `postgres` as the same user; does
nothing on SQLite or when the database exists."""

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql


class Command(BaseCommand):
    help = "Create the PostgreSQL database of DATABASE_URL if it does not exist yet."

    def handle(self, *args, **options):
        database = settings.DATABASES["default"]
        if database["ENGINE"] != "django.db.backends.postgresql":
            return
        params = {
            "host": database["HOST"] or "127.0.0.1",
            "port": database["PORT"] or 5432,
            "user": database["USER"] or None,
            "password": database["PASSWORD"] or None,
            "connect_timeout": 5,
        }
        name = database["NAME"]
        try:
            with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                    return
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            reason = " ".join(str(exc).split())
            raise CommandError(f"cannot reach PostgreSQL to create database {name!r}: {reason}") from None
        self.stdout.write(f"created database {name}")
