"""A staff grant from the command line: a `staff_grant` campaign to one player, with a reason,
recorded in the staff trail (no staff user: the operator at the console)."""

import uuid

from django.core.management.base import BaseCommand, CommandError

from apps.accounts import selectors as accounts
from apps.bonuses import services
from apps.common.errors import PamError


class Command(BaseCommand):
    help = (
        "Grant the staff-grant campaign CODE to the player USERNAME, with --reason (in the staff trail). "
        "--grant-id names the grant: the same id again grants nothing more. Prints the bonus id."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("code")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--grant-id", default=None, help="default: a new id (every run grants)")

    def handle(self, *args, username, code, reason, grant_id, **options):
        player = accounts.find_player_by_username(username)
        if player is None:
            raise CommandError(f"No player {username!r}.")
        try:
            bonus = services.staff_grant(
                player, code, acting_user=None, reason=reason, grant_id=grant_id or uuid.uuid4().hex
            )
        except PamError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        self.stdout.write(bonus.public_id)
