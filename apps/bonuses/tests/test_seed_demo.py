"""The demo data's welcome campaign, WELCOME100, exactly as integrators and tests rely on it,
saved once however often the demo is seeded."""

import pytest
from django.core.management import call_command

from apps.accounts.models import Player
from apps.bonuses import selectors, services
from apps.bonuses.models import Campaign, GameWeight
from apps.compliance.models import StaffAction

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
    assert (welcome.brand_id, welcome.currency_id) == (None, "EUR")
    assert list(GameWeight.objects.filter(campaign=welcome).values_list("game_type", "game_code", "percent")) == [
        ("table", "", 10)
    ]
    saves = StaffAction.objects.filter(action="bonus.campaign_save", target_id=str(welcome.pk))
    assert [s.actor.username for s in saves] == ["admin"]  # the second run changed nothing
    alice = Player.objects.get(user__username="alice")
    assert services.opt_in(alice, "WELCOME100")[1] is True
    assert [c.code for c in selectors.list_eligible_campaigns(alice)] == ["WELCOME100"]
