"""Demo data for `make run`: a brand, one staff user per role, and players with money and a
history (deposits paid through the sandbox PSP's cashier, bets and wins of a demo game provider), so
the site and the back office show a living platform at once, the deposits with their webhooks; the
sandbox PSP, so the cashier works; and `alice`, verified, with a
withdrawal awaiting approval (the back office's approval queue has one, her cashier a Cancel);
the deposit-threshold behaviour rule enabled, so that alice's large deposit raises an alert, and a
case opened on it, assigned to the compliance officer (the back office's Compliance alerts and cases);
and the opt-in campaign WELCOME100, saved by the admin (see `DEMO_CAMPAIGN`); PAM's own studio
with every game enabled, so the lobby (`/games/`) is playable; and the sportsbook's demo book
(apps/sportsbook/demo.py): a demo feed with upcoming and live events, and a few bets of alice and bob.

It lives in the back office, the one app that may call every app's services: accounts for the
people, games for the provider, the wallet for the money, payments for the cashier (accounts
never calls the wallet).
Idempotent: every movement has a fixed external id, so a second run is a replay that moves
nothing. Passwords (and the demo provider's and the demo feed's secrets) are generated on the first run and kept in
`<PAM_DATA_DIR>/demo-logins.json` (untracked), so nothing secret is committed and every run
prints the same logins.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.accounts import services as accounts
from apps.accounts.choices import KycStatus, StaffRole
from apps.accounts.models import Player
from apps.backoffice import services as report_services
from apps.backoffice.studio import provision_studio
from apps.bonuses import services as bonuses
from apps.common.idempotency import ExternalRef, fingerprint
from apps.compliance import cases
from apps.compliance import selectors as compliance_selectors
from apps.compliance import services as compliance
from apps.games import services as games
from apps.payments import services as payments
from apps.payments.choices import DepositStatus
from apps.sportsbook import demo as sportsbook_demo
from apps.wallet import services as wallet

DEMO_BRAND = ("demo", "PAM Demo Casino")
DEMO_PLAYERS = [
    # username, e-mail, country, currency, date of birth
    ("alice", "alice@example.com", "MT", "EUR", dt.date(1990, 4, 12)),
    ("bob", "bob@example.com", "GB", "GBP", dt.date(1985, 11, 3)),
    ("carol", "carol@example.com", "SE", "SEK", dt.date(1999, 1, 30)),
]
DEMO_PROVIDER = "demo-games"
# Each player's history, in minor units: ("deposit", amount) or a game round ("round", stake, win).
DEMO_HISTORY = [
    ("deposit", 30_000),
    ("round", 500, 0),
    ("round", 1_000, 2_500),
    ("round", 200, 0),
    ("deposit", 20_000),
    ("round", 2_000, 0),
    ("round", 500, 1_500),
    ("round", 1_000, 0),
    ("round", 300, 900),
]
# The player with a withdrawal awaiting approval: above the default automatic approval (1,000.00).
PENDING_WITHDRAWAL = ("alice", 150_000, 120_000)  # username, a further deposit, the withdrawal
# Enabled in the demo: alice's deposits (500.00 then 1,500.00 EUR) cross its 1,000.00 in 24 h.
DEMO_RULE = "deposit-threshold-24h"
# The welcome campaign players opt into with its code: a 100 % match of their next deposit up to
# 100.00, wagered 10 times the bonus (table games count 10 %, every other game, catalogued or not,
# 100 %), at most 50.00 a stake while wagering, expiring after 30 days, forfeited on withdrawal.
# For every wallet currency (no `currency`): its amounts are minor units of the player's, so 100.00
# EUR for alice, GBP for bob, SEK for carol.
DEMO_CAMPAIGN = {
    "code": "WELCOME100", "name": "Welcome bonus: 100 % of your next deposit", "kind": "deposit_match",
    "enabled": True, "requires_opt_in": True, "one_per_player": True, "currency": None,
    "match_percent": 100, "cap": 10_000, "trigger": "any_deposit", "min_deposit": 1,
    "wagering_multiple": 10, "wagering_base": "bonus", "default_weight_percent": 100, "max_stake": 5_000,
    "expires_after_days": 30, "forfeit_on_withdrawal": True,
}  # fmt: skip
DEMO_CAMPAIGN_WEIGHTS = [bonuses.Weight(game_type="table", percent=10)]
# The demo provider's catalogue: the history's rounds are on the slot; the roulette is a table
# game, which WELCOME100 counts at 10 %.
DEMO_GAMES = [("demo-slot", "Demo Slot", "slots"), ("demo-roulette", "Demo Roulette", "table")]
# A staff gift that carol is wagering, so the demo shows a bonus in progress: 20.00 SEK to wager 10 times
# (it may be granted beside another active bonus, but WELCOME100 may not: she can join it, and it
# comes with a deposit once the gift has ended).
DEMO_GIFT = {
    "code": "DEMO-GIFT", "name": "Demo gift: 20.00 SEK to play with", "kind": "fixed", "enabled": True,
    "requires_opt_in": False, "one_per_player": True, "allow_concurrent": True, "currency": "SEK", "amount": 2_000,
    "trigger": "staff_grant", "wagering_multiple": 10, "wagering_base": "bonus", "default_weight_percent": 100,
    "expires_after_days": 30,
}  # fmt: skip
DEMO_GIFT_PLAYER = "carol"


class Command(BaseCommand):
    help = "Create or refresh the demo brand, staff users and players with money and history; print their logins."

    def handle(self, *args, **options):
        logins = self._load_or_make_secrets()
        with transaction.atomic():
            brand = accounts.ensure_brand(code=DEMO_BRAND[0], name=DEMO_BRAND[1])
            for role in StaffRole:
                user = accounts_selectors.find_user(role.value)
                if user is None:
                    accounts.create_staff_user(username=role.value, password=logins[role.value], role=role)
                else:
                    accounts.set_password(user=user, password=logins[role.value])
            players = [self._player(brand.code, logins, *fields) for fields in DEMO_PLAYERS]
            studio = games.save_provider(code=DEMO_PROVIDER, secret=logins["demo-games-secret"], name="Demo Games")
            for code, name, game_type in DEMO_GAMES:
                games.save_game(provider=studio, code=code, name=name, game_type=game_type)
            sandbox = payments.ensure_sandbox_provider()
            # The lobby's playable games: PAM's own studio, every game enabled.
            provision_studio(enable=True)
        officer = accounts_selectors.find_user(StaffRole.COMPLIANCE.value)
        self._enable_rule(officer)
        self._campaign(accounts_selectors.find_user(StaffRole.ADMIN.value))
        # Each movement is its own durable money transaction, after the people are committed.
        for player in players:
            self._history(player, sandbox.code)
        alice = next(p for p in players if p.user.username == PENDING_WITHDRAWAL[0])
        self._pending_withdrawal(alice, sandbox.code)
        self._case(alice, officer)
        self._gift(next(p for p in players if p.user.username == DEMO_GIFT_PLAYER), accounts_selectors.find_user(
            StaffRole.ADMIN.value))  # fmt: skip
        sportsbook_demo.seed(secret=logins["demo-feed-secret"], players={p.user.username: p for p in players})
        # Today's reports, so that their pages show figures at once (Celery is eager when embedded;
        # served, the worker computes them).
        report_services.schedule_reports(day=timezone.now().date())
        self.stdout.write("Back office (staff):")
        for role in StaffRole:
            self.stdout.write(f"  {role.value:<11} password {logins[role.value]}")
        # The demo staff have no authenticator, so `make run` stays one command; one is a command away.
        self.stdout.write(
            "  (no one-time code needed until enrolled: `python manage.py enrol_staff_otp USERNAME` gives an "
            "authenticator and recovery codes; docs/backoffice.md)"
        )
        self.stdout.write("Players:")
        for username, *_ in DEMO_PLAYERS:
            self.stdout.write(f"  {username:<11} password {logins[username]}")

    def _player(self, brand: str, logins: dict, username, email, country, currency, born) -> Player:
        player = accounts_selectors.find_player_by_username(username)
        if player is None:
            return accounts.register_player(
                accounts.Registration(username=username, email=email, password=logins[username],
                                      date_of_birth=born, country=country, currency=currency, brand=brand)
            )  # fmt: skip
        accounts.set_password(user=player.user, password=logins[username])
        return player

    def _history(self, player: Player, psp: str) -> None:
        """The player's deposits and game rounds, each with a fixed idempotency key or external
        id: a replay after the first run (it moves nothing)."""
        currency = player.currency_id
        for n, (kind, *amounts) in enumerate(DEMO_HISTORY):
            name = f"demo-{player.user.username}-{n}"
            if kind == "deposit":
                self._deposit(player, psp, name, amounts[0])
                continue
            stake, win = amounts
            round_fields = {"player_id": player.pk, "currency": currency, "round_id": f"{name}-round",
                            "game_id": "demo-slot"}  # fmt: skip
            wallet.place_bet(amount=stake, ref=_game_ref(f"{name}-bet", stake), **round_fields)
            wallet.settle_win(amount=win, ref=_game_ref(f"{name}-win", win), **round_fields)

    def _pending_withdrawal(self, player: Player, provider: str) -> None:
        """A verified player's further deposit and a withdrawal above the automatic approval: it
        waits for staff. The fixed idempotency key makes a second run a replay."""
        _, deposit, amount = PENDING_WITHDRAWAL
        accounts.set_kyc_status(player_id=player.pk, kyc_status=KycStatus.VERIFIED, reason="demo data")
        self._deposit(player, provider, f"demo-{player.user.username}-large", deposit)
        payments.request_withdrawal(player=player, amount=amount, currency=player.currency_id, provider_code=provider,
                                    idempotency_key=f"demo-{player.user.username}-withdrawal")  # fmt: skip

    def _deposit(self, player: Player, psp: str, key: str, amount: int) -> None:
        """A deposit as the player makes one at the cashier: the intent, then the sandbox PSP's
        webhook for a test card that pays, received in-process (no server runs yet). A second
        run finds the intent paid and moves nothing."""
        deposit = payments.start_deposit(player=player, amount=amount, currency=player.currency_id, provider_code=psp,
                                         idempotency_key=key).payment  # fmt: skip
        if deposit.status == DepositStatus.PENDING:
            payments.pay_in_sandbox(deposit=deposit)

    def _enable_rule(self, officer) -> None:
        """The deposit-threshold rule on, as a compliance officer would turn it on (a new version and
        a staff action); a second run finds it on and changes nothing."""
        rule = compliance_selectors.get_rule(DEMO_RULE)
        if rule.enabled:
            return
        compliance.save_rule(
            code=rule.code, rule_type=rule.type, parameters=rule.parameters, severity=rule.severity,
            actions=rule.actions, enabled=True, brand=rule.brand, jurisdiction=rule.jurisdiction,
            acting_user=officer, reason="Demo: deposits reaching EUR 1,000 within 24 hours raise an alert.",
        )  # fmt: skip

    def _campaign(self, admin) -> None:
        """WELCOME100 as an admin would save it (a staff action the first time; a save that
        changes nothing writes nothing, so a second run leaves it as it is)."""
        bonuses.save_campaign(
            acting_user=admin, reason="Demo data: the welcome campaign", weights=DEMO_CAMPAIGN_WEIGHTS,
            **DEMO_CAMPAIGN,
        )  # fmt: skip

    def _gift(self, player: Player, admin) -> None:
        """DEMO-GIFT saved and granted to the player by an admin (fixed ids: a second run grants
        nothing), then two spins on it, so its wagering shows progress."""
        fields = {**DEMO_GIFT, "currency": accounts_selectors.get_active_currency(DEMO_GIFT["currency"])}
        bonuses.save_campaign(acting_user=admin, reason="Demo data: a gift in wagering", code=fields.pop("code"),
                              **fields)  # fmt: skip
        if player.currency_id != DEMO_GIFT["currency"]:
            return
        bonuses.staff_grant(player, DEMO_GIFT["code"], acting_user=admin, reason="Demo data: a gift",
                            grant_id="demo-gift")  # fmt: skip
        for n, game in enumerate(("demo-slot", "demo-roulette")):
            name = f"demo-{player.user.username}-gift-{n}"
            wallet.place_bet(amount=500, ref=_game_ref(f"{name}-bet", 500), player_id=player.pk,
                             currency=player.currency_id, round_id=f"{name}-round", game_id=game)  # fmt: skip

    def _case(self, player: Player, officer) -> None:
        """A case for the player's alerts not yet in one (the rule's alert on the large deposit),
        assigned to the compliance officer with a first comment."""
        alerts = compliance_selectors.list_player_alerts_outside_cases(player.pk)
        if not alerts:
            return
        case = cases.open_case(alerts=alerts, acting_user=officer, title="Large deposits within a day")
        cases.assign(case=case, assignee=officer, acting_user=officer)
        note = "Deposits of 2,000.00 EUR in a day, then a 1,200.00 withdrawal: ask for the source of funds."
        cases.comment(case=case, text=note, acting_user=officer)

    def _load_or_make_secrets(self) -> dict[str, str]:
        path = settings.DATA_DIR / "demo-logins.json"
        logins = json.loads(path.read_text()) if path.is_file() else {}
        names = [role.value for role in StaffRole] + [username for username, *_ in DEMO_PLAYERS]
        for name in names:
            logins.setdefault(name, f"demo-{secrets.token_urlsafe(9)}")
        logins.setdefault("demo-games-secret", secrets.token_urlsafe(24))
        logins.setdefault("demo-feed-secret", secrets.token_urlsafe(24))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(logins, indent=2))
        path.chmod(0o600)
        return logins


def _game_ref(external_id: str, amount: int) -> ExternalRef:
    return ExternalRef(f"provider:{DEMO_PROVIDER}", external_id, fingerprint("demo-round", {"amount": amount}))
