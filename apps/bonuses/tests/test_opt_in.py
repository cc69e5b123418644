"""Opt-in: who may join a campaign (its currency, brand, country, new players only, promotions
allowed), the stable refusals, and a second opt-in answering the first; the campaigns the cashier
offers."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.models import Currency
from apps.accounts.tests.factories import make_brand, make_player, make_staff
from apps.bonuses import selectors, services
from apps.bonuses.errors import NotEligible, UnknownCampaign
from apps.bonuses.models import OptIn
from apps.bonuses.tests.factories import bonus_of, campaign
from apps.compliance import services as compliance
from apps.compliance.tests.factories import deposit

pytestmark = pytest.mark.django_db


def refused(player, code: str) -> str:
    with pytest.raises((UnknownCampaign, NotEligible)) as refusal:
        services.opt_in(player, code)
    assert OptIn.objects.filter(player=player).exists() is False
    return refusal.value.code


def test_an_eligible_player_opts_in_once_and_again_gets_the_same_opt_in(clock):
    player = make_player()
    campaign("SPRING")

    joined, created = services.opt_in(player, "spring")  # any case
    again, created_again = services.opt_in(player, "SPRING")

    assert (created, created_again) == (True, False)
    assert (again.pk, joined.created_at) == (joined.pk, timezone.now())
    assert OptIn.objects.filter(player=player).count() == 1


def test_a_code_that_is_unknown_disabled_not_started_ended_or_without_opt_in_is_unknown(clock):
    player = make_player()
    now = timezone.now()
    campaign("OFF", enabled=False)
    campaign("LATER", starts_at=now + dt.timedelta(seconds=1))
    campaign("OVER", starts_at=now - dt.timedelta(days=2), ends_at=now)
    campaign("AUTO", requires_opt_in=False)

    for code in ("NOPE", "OFF", "LATER", "OVER", "AUTO"):
        assert refused(player, code) == "UNKNOWN_CAMPAIGN"


def test_a_campaign_opens_exactly_at_its_start(clock):
    player = make_player()
    campaign("LATER", starts_at=timezone.now() + dt.timedelta(seconds=1))
    clock.shift(dt.timedelta(seconds=1))

    assert services.opt_in(player, "LATER")[1] is True


def test_another_brand_or_country_is_not_eligible_and_the_right_ones_are(clock):
    make_brand("other", "Other Casino")
    campaign("MT-ONLY", brand=make_brand(), countries=["MT", "SE"])

    assert refused(make_player(brand="other"), "MT-ONLY") == "NOT_ELIGIBLE"
    assert refused(make_player(country="GB"), "MT-ONLY") == "NOT_ELIGIBLE"
    assert services.opt_in(make_player(country="SE"), "MT-ONLY")[1] is True


def test_new_players_only_refuses_a_player_who_ever_deposited(clock):
    campaign("NEW", new_players_only=True)
    depositor = make_player()
    deposit(depositor, 1)

    assert refused(depositor, "NEW") == "NOT_ELIGIBLE"
    assert services.opt_in(make_player(), "NEW")[1] is True


def test_an_excluded_or_locked_player_may_not_opt_in(clock):
    campaign("SPRING")
    timed_out, locked = make_player(), make_player()
    compliance.start_time_out(player=timed_out, hours=24)
    compliance.lock_account_by_staff(player=locked, acting_user=make_staff(StaffRole.COMPLIANCE), reason="review")

    assert refused(timed_out, "SPRING") == "NOT_ELIGIBLE"
    assert refused(locked, "SPRING") == "NOT_ELIGIBLE"
    assert selectors.list_eligible_campaigns(timed_out) == []


def test_the_eligible_campaigns_leave_out_another_brand_and_a_one_per_player_campaign_already_had(clock):
    make_brand("other", "Other Casino")
    player = make_player()
    had = campaign("HAD")
    campaign("AGAIN", one_per_player=False)
    campaign("OPEN")
    campaign("ELSEWHERE", brand=make_brand("other"))
    campaign("OFF", enabled=False)
    bonus_of(player, had, status="converted", ended_at=timezone.now())
    bonus_of(player, campaign("AGAIN"), status="converted", ended_at=timezone.now())

    assert [c.code for c in selectors.list_eligible_campaigns(player)] == ["AGAIN", "OPEN"]


def test_while_the_player_wagers_a_bonus_only_campaigns_that_allow_another_are_offered(clock):
    player = make_player()
    campaign("STACKS", allow_concurrent=True)
    campaign("SPRING")
    wagered = bonus_of(player, campaign("GIFT", kind="fixed", trigger="staff_grant", requires_opt_in=False))

    assert [c.code for c in selectors.list_eligible_campaigns(player)] == ["STACKS"]

    # To join (the bonuses page), it is offered: the grant may come after the bonus ended.
    assert [c.code for c in selectors.list_eligible_campaigns(player, to_join=True)] == ["SPRING", "STACKS"]

    # Past its expiry, before any sweep, it no longer holds the others back.
    clock.move_to(wagered.expires_at)
    assert [c.code for c in selectors.list_eligible_campaigns(player)] == ["SPRING", "STACKS"]


def test_a_campaign_in_another_currency_than_the_wallets_may_not_be_joined(clock):
    campaign("POUNDS", currency=Currency.objects.get(code="GBP"))

    assert refused(make_player(), "POUNDS") == "NOT_ELIGIBLE"
    assert services.opt_in(make_player(currency="GBP"), "POUNDS")[1] is True
    assert OptIn.objects.count() == 1
