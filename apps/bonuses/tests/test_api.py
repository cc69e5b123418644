"""The player's bonus API: the list's exact shape (newest first, a cursor) and the opt-in's
answers (201, then 200 with the same opt-in) and refusals (stable codes)."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.choices import StaffRole
from apps.accounts.models import Currency
from apps.accounts.services import issue_token
from apps.accounts.tests.factories import make_player, make_staff
from apps.bonuses import selectors
from apps.bonuses.models import OptIn
from apps.bonuses.tests.factories import bonus_of, campaign, fund_bonus
from apps.common.timestamps import iso_utc
from apps.compliance import services as compliance

pytestmark = pytest.mark.django_db

BONUSES = "/api/player/v1/bonuses"
OPT_IN = "/api/player/v1/bonuses/opt-in"
CAMPAIGNS = "/api/player/v1/bonuses/campaigns"


@pytest.fixture
def player():
    return make_player()


@pytest.fixture
def api(player):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(player.user)}")
    return client


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_the_list_is_empty_for_a_player_without_bonuses(api):
    assert api.get(BONUSES).json() == {"results": [], "next_cursor": None}


def test_the_list_shows_the_players_bonuses_newest_first_in_minor_units(api, player):
    spring = campaign("SPRING")
    older = bonus_of(player, spring, 1_000)
    fund_bonus(player, 1_000)
    summer = campaign("SUMMER", forfeit_on_withdrawal=True)
    newer = bonus_of(player, summer, 2_500, status="converted", remaining=0, wagering_done=25_000,
                     ended_at=timezone.now())  # fmt: skip
    bonus_of(make_player(), spring)  # another player's

    body = api.get(BONUSES).json()

    assert body == {
        "results": [
            {"bonus_id": newer.public_id, "campaign": "SUMMER", "status": "converted", "amount": 2_500,
             "remaining": 0, "wagering_required": 25_000, "wagering_done": 25_000,
             "expires_at": iso_utc(newer.expires_at), "forfeit_on_withdrawal": True},
            {"bonus_id": older.public_id, "campaign": "SPRING", "status": "active", "amount": 1_000,
             "remaining": 1_000, "wagering_required": 10_000, "wagering_done": 0,
             "expires_at": iso_utc(older.expires_at), "forfeit_on_withdrawal": False},
        ],
        "next_cursor": None,
    }  # fmt: skip
    assert older.public_id.startswith("bon_")


def test_the_campaigns_are_those_open_to_the_player_with_their_terms(api, player):
    campaign("SPRING", name="Spring match", expires_after_days=30, max_stake=5_000, forfeit_on_withdrawal=True)
    campaign("GOODWILL", kind="fixed", amount=2_500, trigger="staff_grant", requires_opt_in=False)  # staff's alone
    campaign("POUNDS", currency=Currency.objects.get(code="GBP"))  # another wallet currency
    campaign("ELSEWHERE", countries=["SE"])  # not this player's country
    campaign("OFF", enabled=False)

    body = api.get(CAMPAIGNS).json()

    assert body == {
        "results": [
            {"code": "SPRING", "name": "Spring match", "kind": "deposit_match", "trigger": "any_deposit",
             "currency": "EUR", "match_percent": 100, "cap": 10_000, "amount": None, "min_deposit": 1_000,
             "wagering_multiple": 10, "wagering_base": "bonus", "max_stake": 5_000, "expires_after_days": 30,
             "forfeit_on_withdrawal": True, "requires_opt_in": True},
        ]
    }  # fmt: skip


def test_a_campaign_for_every_currency_is_offered_in_the_players(player):
    campaign("ANYWHERE", name="Anywhere", currency=None)
    dollars = make_player(currency="USD")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(dollars.user)}")

    [offer] = client.get(CAMPAIGNS).json()["results"]

    assert (offer["code"], offer["currency"], offer["cap"]) == ("ANYWHERE", "USD", 10_000)


def test_the_campaigns_are_none_for_a_player_who_may_not_receive_promotions(api, player):
    campaign("SPRING")
    compliance.start_time_out(player=player, hours=24)

    assert api.get(CAMPAIGNS).json() == {"results": []}


def test_the_campaigns_need_a_player(player):
    client = APIClient()
    assert client.get(CAMPAIGNS).status_code == 401
    client.force_authenticate(make_staff(StaffRole.SUPPORT))
    assert client.get(CAMPAIGNS).status_code == 403


def test_the_list_pages_with_its_cursor(api, player, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    spring = campaign("SPRING")
    ids = [bonus_of(player, spring).public_id for _ in range(3)]

    first = api.get(BONUSES).json()
    second = api.get(BONUSES, {"cursor": first["next_cursor"]}).json()

    assert [b["bonus_id"] for b in first["results"]] == ids[:0:-1]
    assert [b["bonus_id"] for b in second["results"]] == ids[:1]
    assert second["next_cursor"] is None
    assert error_code(api.get(BONUSES, {"cursor": "abc"})) == "INVALID_REQUEST"


def test_opt_in_answers_201_then_200_with_the_same_opt_in(api, player):
    campaign("SPRING")

    first = api.post(OPT_IN, {"code": "spring"}, format="json")
    second = api.post(OPT_IN, {"code": "SPRING"}, format="json")

    joined = OptIn.objects.get(player=player)
    expected = {"campaign": "SPRING", "created_at": iso_utc(joined.created_at)}
    assert (first.status_code, first.json()) == (201, expected)
    assert (second.status_code, second.json()) == (200, expected)


def test_opt_in_refusals_have_stable_codes(api, player):
    campaign("NEW", new_players_only=True, countries=["SE"])

    unknown = api.post(OPT_IN, {"code": "NOPE"}, format="json")
    not_eligible = api.post(OPT_IN, {"code": "NEW"}, format="json")
    invalid = api.post(OPT_IN, {"code": "no spaces"}, format="json")

    assert (unknown.status_code, error_code(unknown)) == (404, "UNKNOWN_CAMPAIGN")
    assert (not_eligible.status_code, error_code(not_eligible)) == (422, "NOT_ELIGIBLE")
    assert (invalid.status_code, error_code(invalid)) == (400, "INVALID_REQUEST")
    assert OptIn.objects.exists() is False


def test_a_self_excluded_player_is_not_eligible(api, player):
    campaign("SPRING")
    compliance.self_exclude(player=player, period="6m")

    response = api.post(OPT_IN, {"code": "SPRING"}, format="json")

    assert (response.status_code, error_code(response)) == (422, "NOT_ELIGIBLE")


def test_the_bonus_api_is_for_players_only():
    anonymous = APIClient()
    assert error_code(anonymous.get(BONUSES)) == "NOT_AUTHENTICATED"
    staff = APIClient()
    staff.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(make_staff(StaffRole.SUPPORT))}")
    assert staff.get(BONUSES).status_code == 403
