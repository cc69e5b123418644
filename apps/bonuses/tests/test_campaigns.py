"""Campaigns: which fields each kind and trigger needs (`campaigns.validate`, through
`save_campaign`), every save a `bonus.campaign_save` staff action with what changed, and the
database refusing what no campaign may hold."""

import pytest
from django.db import IntegrityError, connection, transaction

from apps.bonuses import services
from apps.bonuses.errors import InvalidCampaign
from apps.bonuses.models import Campaign, GameWeight
from apps.bonuses.tests.factories import KINDS, campaign
from apps.compliance.models import StaffAction

pytestmark = pytest.mark.django_db


def refused_fields(**kwargs) -> set[str]:
    with pytest.raises(InvalidCampaign) as refused:
        campaign(**kwargs)
    assert refused.value.code == "INVALID_CAMPAIGN"
    assert Campaign.objects.filter(code=kwargs.get("code", "SPRING")).exists() is False
    return set(refused.value.details["fields"])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_saves_with_the_fields_it_needs(kind):
    saved = campaign(code=f"c-{kind}", kind=kind)

    assert (saved.kind, saved.enabled) == (kind, True)
    action = StaffAction.objects.get(action="bonus.campaign_save", target_id=str(saved.pk))
    assert (action.target_type, action.before, action.reason) == ("bonuses.campaign", {}, "test")
    assert (action.after["kind"], action.after["weights"]) == (kind, [])


@pytest.mark.parametrize(
    ("kind", "change", "fields"),
    [
        ("deposit_match", {"cap": None}, {"cap"}),
        ("deposit_match", {"match_percent": None}, {"match_percent"}),
        ("deposit_match", {"amount": 500}, {"amount"}),
        ("deposit_match", {"trigger": "registration", "min_deposit": None, "requires_opt_in": False}, {"trigger"}),
        ("deposit_match", {"min_deposit": None}, {"min_deposit"}),
        ("deposit_match", {"cap": 0}, {"cap"}),
        ("fixed", {"amount": None}, {"amount"}),
        ("fixed", {"match_percent": 50}, {"match_percent"}),
        ("fixed", {"min_deposit": 1_000}, {"min_deposit"}),
        ("fixed", {"wagering_base": "bonus_and_deposit"}, {"wagering_base"}),
        ("free_bet", {"wagering_period_days": None}, {"wagering_period_days"}),
        ("free_bet", {"wagering_threshold": None}, {"wagering_threshold"}),
        ("cashback", {"cashback_period_days": None}, {"cashback_period_days"}),
        ("cashback", {"cashback_percent": 101}, {"cashback_percent"}),
        ("cashback", {"amount": 100}, {"amount"}),
        ("fixed", {"countries": ["mt"]}, {"countries"}),
        ("fixed", {"countries": ["MT", "MT"]}, {"countries"}),
        ("fixed", {"budget": -1}, {"budget"}),
        ("fixed", {"default_weight_percent": 101}, {"default_weight_percent"}),
        ("fixed", {"trigger": "monthly"}, {"trigger"}),
        # No one can opt in before registering; a cash-back, and only one, pays at each period's end.
        ("fixed", {"requires_opt_in": True}, {"requires_opt_in"}),
        ("cashback", {"trigger": "staff_grant"}, {"trigger"}),
        ("cashback", {"starts_at": None}, {"starts_at"}),
        ("fixed", {"trigger": "period_end"}, {"trigger"}),
        # Without a currency the amounts are each wallet's: a budget or a cash-back would sum unlike money.
        ("deposit_match", {"currency": None, "budget": 100_000}, {"currency"}),
        ("cashback", {"currency": None}, {"currency"}),
    ],
)
def test_a_field_a_kind_or_trigger_needs_or_refuses_is_named(kind, change, fields):
    assert refused_fields(kind=kind, **change) == fields


@pytest.mark.parametrize(
    "weights",
    [
        [services.Weight(percent=10, game_type="table", game_code="blackjack")],
        [services.Weight(percent=10)],
        [services.Weight(percent=101, game_type="table")],
        [services.Weight(percent=10, game_type="table"), services.Weight(percent=20, game_type="table")],
    ],
)
def test_game_weights_name_one_game_type_or_code_once_at_0_to_100(weights):
    assert refused_fields(weights=weights) == {"weights"}


@pytest.mark.parametrize("kind", ["deposit_match", "fixed", "free_bet"])
def test_a_campaign_may_be_for_every_wallet_currency(kind):
    assert campaign(code=f"any-{kind}", kind=kind, currency=None).currency_id is None


def test_a_save_without_a_reason_or_with_an_unknown_field_is_refused():
    with pytest.raises(InvalidCampaign):
        services.save_campaign(code="x", acting_user=None, reason=" ", name="x")
    with pytest.raises(InvalidCampaign):
        services.save_campaign(code="x", acting_user=None, reason="r", colour="red")
    assert Campaign.objects.exists() is False


def test_a_change_records_only_what_changed_and_a_save_that_changes_nothing_writes_nothing():
    saved = campaign(weights=[services.Weight(percent=10, game_type="table")])
    campaign(weights=[services.Weight(percent=10, game_type="table")])
    assert StaffAction.objects.filter(action="bonus.campaign_save").count() == 1

    campaign(cap=20_000, weights=[services.Weight(percent=5, game_code="roulette")])

    change = StaffAction.objects.filter(action="bonus.campaign_save").latest("pk")
    assert change.before == {"cap": 10_000, "weights": [{"game_type": "table", "game_code": "", "percent": 10}]}
    assert change.after == {"cap": 20_000, "weights": [{"game_type": "", "game_code": "roulette", "percent": 5}]}
    assert list(GameWeight.objects.filter(campaign=saved).values_list("game_code", "percent")) == [("roulette", 5)]
    assert Campaign.objects.get(pk=saved.pk).cap == 20_000


def test_codes_are_one_campaign_whatever_their_case():
    saved = campaign(code="Spring")
    campaign(code="SPRING", cap=5_000)  # the same campaign: a change, not a second one

    assert list(Campaign.objects.values_list("pk", "code", "cap")) == [(saved.pk, "Spring", 5_000)]


def test_the_database_refuses_a_weight_of_both_or_neither_and_an_unknown_kind():
    saved = campaign()
    with pytest.raises(IntegrityError), transaction.atomic():
        GameWeight.objects.create(campaign=saved, game_type="table", game_code="blackjack", percent=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        GameWeight.objects.create(campaign=saved, percent=10)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE bonuses_campaign SET kind = 'loyalty' WHERE id = %s", [saved.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE bonuses_campaign SET cap = -1 WHERE id = %s", [saved.pk])
