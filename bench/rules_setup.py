"""The rules benchmark's set-up commands, run with the bench environment:

python -m bench.rules_setup rules on|off     every seeded behaviour rule enabled or disabled
                                             through the compliance service (micro-bets raised
                                             so that no bench player is locked, the night made
                                             the hours around now)
python -m bench.rules_setup session          a compliance officer's session key (the back-office
                                             socket's cookie)
python -m bench.rules_setup deposits N SECRET  N verified players with a pending deposit of
                                             1,000.00 EUR each through the sandbox provider
                                             (SECRET): one line each, "player_id deposit_id"
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402

from apps.accounts.choices import StaffRole  # noqa: E402
from apps.accounts.models import User  # noqa: E402
from apps.accounts.services import create_staff_user  # noqa: E402
from apps.compliance.models import Rule  # noqa: E402
from apps.compliance.services import save_rule  # noqa: E402
from apps.payments import services as payments  # noqa: E402
from bench.seed import bench_rule_parameters, make_players  # noqa: E402

OFFICER = "bench-officer"
THRESHOLD_DEPOSIT = 100_000  # the seeded deposit-threshold rule's EUR 1,000.00


def officer() -> User:
    user = User.objects.filter(username=OFFICER).first()
    return user or create_staff_user(username=OFFICER, password=os.urandom(16).hex(), role=StaffRole.COMPLIANCE)


def set_rules(enabled: bool) -> None:
    for rule in Rule.objects.all():
        parameters = bench_rule_parameters(rule)
        save_rule(code=rule.code, rule_type=rule.type, parameters=parameters, severity=rule.severity,
                  actions=rule.actions, enabled=enabled, acting_user=officer(),
                  reason=f"bench: every rule {'on' if enabled else 'off'}")  # fmt: skip


def session() -> str:
    user = officer()
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "apps.accounts.backends.ThrottledModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def deposits(count: int, secret: str) -> None:
    payments.save_provider(code="sandbox", webhook_secret=secret)
    for n, player in enumerate(make_players(count, prefix="depositor")):
        started = payments.start_deposit(player=player, amount=THRESHOLD_DEPOSIT, currency="EUR",
                                         provider_code="sandbox", idempotency_key=f"rules-{n}")  # fmt: skip
        print(player.pk, started.payment.public_id)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "rules":
        set_rules(sys.argv[2] == "on")
    elif command == "session":
        print(session())
    elif command == "deposits":
        deposits(int(sys.argv[2]), sys.argv[3])
