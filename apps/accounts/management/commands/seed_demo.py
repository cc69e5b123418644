"""Demo data for `make run`: a brand, one staff user per role, a few players.

Idempotent. Passwords are generated on the first run and kept in `<PAM_DATA_DIR>/demo-logins.json`
(untracked), so nothing secret is committed and every run prints the same logins.
"""

import datetime as dt
import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts import services
from apps.accounts.choices import StaffRole
from apps.accounts.models import Brand, Player, User

DEMO_BRAND = ("demo", "PAM Demo Casino")
DEMO_PLAYERS = [
    # username, e-mail, country, currency, date of birth
    ("alice", "alice@example.com", "MT", "EUR", dt.date(1990, 4, 12)),
    ("bob", "bob@example.com", "GB", "GBP", dt.date(1985, 11, 3)),
    ("carol", "carol@example.com", "SE", "SEK", dt.date(1999, 1, 30)),
]


class Command(BaseCommand):
    help = "Create or refresh the demo brand, staff users and players; print their logins."

    def handle(self, *args, **options):
        logins = self._load_or_make_passwords()
        with transaction.atomic():
            brand, _ = Brand.objects.get_or_create(code=DEMO_BRAND[0], defaults={"name": DEMO_BRAND[1]})
            for role in StaffRole:
                user = User.objects.filter(username=role.value).first()
                if user is None:
                    services.create_staff_user(username=role.value, password=logins[role.value], role=role)
                else:
                    user.set_password(logins[role.value])
                    user.save(update_fields=["password"])
            for username, email, country, currency, born in DEMO_PLAYERS:
                if not Player.objects.filter(user__username=username).exists():
                    services.register_player(
                        services.Registration(
                            username=username,
                            email=email,
                            password=logins[username],
                            date_of_birth=born,
                            country=country,
                            currency=currency,
                            brand=brand.code,
                        )
                    )
                else:
                    user = User.objects.get(username=username)
                    user.set_password(logins[username])
                    user.save(update_fields=["password"])
        self.stdout.write("Back office (staff):")
        for role in StaffRole:
            self.stdout.write(f"  {role.value:<11} password {logins[role.value]}")
        self.stdout.write("Players:")
        for username, *_ in DEMO_PLAYERS:
            self.stdout.write(f"  {username:<11} password {logins[username]}")

    def _load_or_make_passwords(self) -> dict[str, str]:
        path = settings.DATA_DIR / "demo-logins.json"
        logins = json.loads(path.read_text()) if path.is_file() else {}
        names = [role.value for role in StaffRole] + [username for username, *_ in DEMO_PLAYERS]
        for name in names:
            logins.setdefault(name, f"demo-{secrets.token_urlsafe(9)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(logins, indent=2))
        path.chmod(0o600)
        return logins
