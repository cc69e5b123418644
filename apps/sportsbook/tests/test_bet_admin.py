"""The back office's bets (read-only), exposure caps and stake factors: a cap or a factor set on
its page goes through the service, one staff action with the form's reason, and the next bet
meets it; support reads the bets and cannot change a cap."""

from decimal import Decimal

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.compliance import audit
from apps.compliance.models import StaffAction
from apps.sportsbook import intake, services
from apps.sportsbook.errors import StakeTooHigh
from apps.sportsbook.models import Bet, Exposure, Selection, StakeFactor
from apps.sportsbook.tests.factories import a_match

pytestmark = pytest.mark.django_db

EXPOSURE = "/backoffice/sportsbook/exposure/"
FACTORS = "/backoffice/sportsbook/stakefactor/"


def logged_in(client, role: StaffRole):
    client.user = make_staff(role)
    client.force_login(client.user)
    return client


def bet(player, stake: int, key: str = "k"):
    legs = [intake.LegRequest("mk-1-home", Decimal("3.10"), 1)]
    return services.place_bet(player=player, idempotency_key=key, stake=stake, currency="EUR", legs=legs,
                              accept_price_changes="none")  # fmt: skip


def test_an_admin_sets_a_selections_own_cap_through_the_service_and_the_next_bet_meets_it(client, player):
    admin = logged_in(client, StaffRole.ADMIN)
    a_match()
    home = Selection.objects.get(selection_id="mk-1-home").pk

    response = admin.post(f"{EXPOSURE}add/", {"scope": "selection", "target_id": home, "currency": "EUR",
                                              "cap": "2100", "reason": "a hot favourite"})  # fmt: skip

    assert response.status_code == 302, response.content
    row = Exposure.objects.get(scope="selection", target_id=home)
    assert (row.cap, row.amount) == (2_100, 0)
    # One record of the change: the service's (the player's funding is the other staff action).
    action = StaffAction.objects.get(action__startswith="sportsbook.")
    assert (action.action, action.actor, action.reason, action.after) == (
        "sportsbook.exposure_cap", admin.user, "a hot favourite", {"cap": 2_100})  # fmt: skip
    bet(player, 1_000)
    with pytest.raises(StakeTooHigh) as refused:
        bet(player, 1, key="k2")
    assert refused.value.details == {"max_stake": 0}
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_an_admin_changes_a_cap_back_to_the_default(client, player):
    admin = logged_in(client, StaffRole.ADMIN)
    a_match()
    row = services.set_exposure_cap(scope="platform", target_id=0, currency="EUR", cap=0, reason="closed",
                                    acting_user=admin.user)  # fmt: skip

    response = admin.post(f"{EXPOSURE}{row.pk}/change/", {"cap": "", "reason": "open again"})

    assert response.status_code == 302, response.content
    assert Exposure.objects.get(pk=row.pk).cap is None
    assert bet(player, 1_000).bet.status == "accepted"


def test_an_admin_sets_a_players_stake_factor_with_its_reason(client, player):
    admin = logged_in(client, StaffRole.ADMIN)
    a_match()

    response = admin.post(f"{FACTORS}add/", {"player": player.pk, "factor": "0.00", "reason": "arbitrage"})

    assert response.status_code == 302, response.content
    assert StakeFactor.objects.get(player=player).factor == Decimal("0.00")
    assert StaffAction.objects.get(action__startswith="sportsbook.").action == "sportsbook.stake_factor"
    with pytest.raises(StakeTooHigh):
        bet(player, 100)


def test_support_reads_the_bets_and_changes_no_cap(client, player):
    support = logged_in(client, StaffRole.SUPPORT)
    a_match()
    placed = bet(player, 1_000).bet

    page = support.get(f"/backoffice/sportsbook/bet/{placed.pk}/change/")

    assert page.status_code == 200
    assert "Home @ 3.10 (slip 3.10, version 1)" in page.content.decode()
    assert support.get(EXPOSURE).status_code == 403
    assert Bet.objects.count() == 1
