"""The demo data's welcome campaign, WELCOME100, exactly as integrators and tests rely on it,
saved once however often the demo is seeded, and playing as its terms say: a deposit matched up to
100.00, the demo roulette (a table game) counted at 10 %, a game the catalogue does not know at
100 %, a stake above 50.00 refused, a withdrawal forfeiting it."""

import datetime as dt
import uuid

import pytest
from django.core.management import call_command

from apps.accounts.models import Player
from apps.backoffice.management.commands.seed_demo import DEMO_PROVIDER
from apps.bonuses import selectors, services
from apps.bonuses.models import Bonus, Campaign, GameWeight
from apps.common.idempotency import ExternalRef, fingerprint
from apps.compliance.errors import LimitReached
from apps.compliance.models import StaffAction
from apps.games import selectors as games
from apps.payments import services as payments
from apps.payments.services import SANDBOX
from apps.payments.tests.factories import account_balance, assert_audit_clean, start_deposit
from apps.wallet import services as wallet
from apps.wallet.choices import AccountKind

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_seed_demo_saves_welcome100_once(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo")
    call_command("seed_demo")

    welcome = Campaign.objects.get(code="WELCOME100")
    fields = {name: getattr(welcome, name) for name in services.CAMPAIGN_FIELDS if name not in ("brand", "currency")}
    assert fields == {
        "name": "Welcome bonus: 100 % of your next deposit", "kind": "deposit_match", "enabled": True,
        "countries": [], "new_players_only": False, "requires_opt_in": True, "one_per_player": True,
        "allow_concurrent": False, "budget": None, "match_percent": 100, "amount": None, "cap": 10_000,
        "trigger": "any_deposit", "min_deposit": 1, "wagering_threshold": None, "wagering_period_days": None,
        "cashback_percent": None, "cashback_period_days": None, "wagering_multiple": 10, "wagering_base": "bonus",
        "default_weight_percent": 100, "max_stake": 5_000, "expires_after_days": 30, "forfeit_on_withdrawal": True,
        "starts_at": None, "ends_at": None,
    }  # fmt: skip
    assert (welcome.brand_id, welcome.currency_id) == (None, None)  # every brand, every wallet currency
    assert list(GameWeight.objects.filter(campaign=welcome).values_list("game_type", "game_code", "percent")) == [
        ("table", "", 10)
    ]
    saves = StaffAction.objects.filter(action="bonus.campaign_save", target_id=str(welcome.pk))
    assert [s.actor.username for s in saves] == ["admin"]  # the second run changed nothing
    alice = Player.objects.get(user__username="alice")
    assert services.opt_in(alice, "WELCOME100")[1] is True
    assert [c.code for c in selectors.list_eligible_campaigns(alice)] == ["WELCOME100"]

    # Alice's next deposit, 150.00, is matched up to 100.00, to wager 10 x, for 30 days.
    deposit(alice, 15_000, "welcome-test-deposit")
    bonus = Bonus.objects.get(player=alice, campaign=welcome)
    assert (bonus.status, bonus.amount, bonus.wagering_required) == ("active", 10_000, 100_000)
    assert bonus.expires_at == bonus.granted_at + dt.timedelta(days=30)
    assert account_balance(alice, AccountKind.BONUS) == 10_000

    # 10.00 on the demo roulette counts 1.00; 10.00 on a game the catalogue does not know, 10.00.
    games.forget_game_types()
    play(alice, 1_000, "demo-roulette")
    assert Bonus.objects.get(pk=bonus.pk).wagering_done == 100
    play(alice, 1_000, "not-in-the-demo-catalogue")
    assert Bonus.objects.get(pk=bonus.pk).wagering_done == 1_100

    # 50.01 is refused while wagering, 50.00 is taken.
    with pytest.raises(LimitReached) as refused:
        play(alice, 5_001, "demo-slot")
    assert refused.value.details["reason"] == "bonus_max_stake"
    play(alice, 5_000, "demo-slot")
    assert Bonus.objects.get(pk=bonus.pk).wagering_done == 6_100

    # A withdrawal before the wagering is met forfeits it: its money goes back to the pool.
    payments.request_withdrawal(player=alice, amount=1_000, currency="EUR", provider_code=SANDBOX,
                                idempotency_key="welcome-test-withdrawal")  # fmt: skip
    assert Bonus.objects.get(pk=bonus.pk).status == "forfeited"
    assert account_balance(alice, AccountKind.BONUS) == 0

    # Bob's wallet is in GBP: WELCOME100 matches his deposit up to 100.00 GBP.
    bob = Player.objects.get(user__username="bob")
    services.opt_in(bob, "WELCOME100")
    deposit(bob, 25_000, "welcome-test-deposit-gbp")
    pounds = Bonus.objects.get(player=bob, campaign=welcome)
    assert (pounds.currency_id, pounds.amount, pounds.wagering_required) == ("GBP", 10_000, 100_000)
    assert account_balance(bob, AccountKind.BONUS) == 10_000
    assert_audit_clean()


def deposit(player: Player, amount: int, key: str) -> None:
    """A deposit at the demo's cashier, paid with the sandbox PSP's test card."""
    assert payments.pay_in_sandbox(deposit=start_deposit(player, amount, SANDBOX, key=key)) == "applied"


def play(player: Player, stake: int, game_id: str) -> None:
    """A bet of the demo provider on `game_id`, as its signed API would place it."""
    external_id = f"welcome-test-{uuid.uuid4().hex[:12]}"
    ref = ExternalRef(games.provider_origin(DEMO_PROVIDER), external_id, fingerprint("bet", {"amount": stake}))
    wallet.place_bet(player_id=player.pk, currency="EUR", amount=stake, ref=ref, round_id=external_id,
                     game_id=game_id)  # fmt: skip
