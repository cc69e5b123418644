"""A deposit limit offered at registration (the jurisdiction profile's
`deposit_limit_at_registration`): `GET auth/register` says whether the brand offers it, and the
limits given with the registration are set in the same transaction as the account."""

import datetime as dt

import pytest

from apps.accounts.models import Player, User
from apps.accounts.tests.factories import make_brand
from apps.accounts.tests.test_register import URL, assert_refused, body
from apps.compliance.errors import LimitReached
from apps.compliance.models import JurisdictionProfile, Limit, LimitChange
from apps.compliance.tests.factories import deposit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def brand():
    return make_brand()


def test_the_brand_says_whether_it_offers_a_deposit_limit(api_client, brand):
    answer = api_client.get(URL, {"brand": "acme"})
    assert answer.json() == {
        "brand": "acme",
        "deposit_limit_offered": True,
        "deposit_limit_periods": ["24h", "7d", "30d"],
    }

    brand.jurisdiction = JurisdictionProfile.objects.create(
        code="XX", name="Nowhere", deposit_limit_cooling_off=dt.timedelta(days=1),
        other_limit_cooling_off=dt.timedelta(days=1), deposit_limit_at_registration=False,
        reality_check_minutes=60, kyc_deposit_threshold=200_000,
    )  # fmt: skip
    brand.save()
    assert api_client.get(URL, {"brand": "acme"}).json()["deposit_limit_offered"] is False
    assert_refused(api_client.get(URL, {"brand": "nobody"}), 404, "UNKNOWN_BRAND")
    assert_refused(api_client.get(URL), 400, "INVALID_REQUEST")


def test_deposit_limits_given_at_registration_apply_from_the_first_deposit(api_client):
    limits = [{"period": "24h", "amount": 5_000}, {"period": "30d", "amount": 50_000}]
    response = api_client.post(URL, body(deposit_limits=limits), format="json")
    assert response.status_code == 201, response.content

    player = Player.objects.get(pk=int(response.json()["player_id"]))
    assert sorted(Limit.objects.filter(player=player).values_list("kind", "period", "amount")) == [
        ("deposit", "24h", 5_000),
        ("deposit", "30d", 50_000),
    ]
    assert LimitChange.objects.filter(player=player, by_player=True, status="applied").count() == 2
    # The cashier reads the deposit limits at every deposit's start; the player's bets stay free.
    assert player.needs_compliance_checks is False
    deposit(player, 5_000)
    with pytest.raises(LimitReached):
        deposit(Player.objects.get(pk=player.pk), 1)


def test_registration_without_a_deposit_limit_sets_none(api_client):
    response = api_client.post(URL, body(), format="json")
    assert response.status_code == 201
    assert not Limit.objects.filter(player_id=int(response.json()["player_id"])).exists()


@pytest.mark.parametrize(
    "limits",
    [
        [{"period": "24h", "amount": 5_000}, {"period": "24h", "amount": 6_000}],  # one per period
        [{"period": "1h", "amount": 5_000}],
        [{"period": "7d", "amount": -1}],
        [{"period": "7d"}],
        [{"period": "7d", "amount": 5000.0}],  # money is a JSON integer, as in PUT limits
        [{"period": "7d", "amount": "5000"}],
        {"period": "7d", "amount": 1},  # a list
    ],
)
def test_a_bad_deposit_limit_refuses_the_registration_and_creates_nothing(api_client, limits):
    assert_refused(api_client.post(URL, body(deposit_limits=limits), format="json"), 400, "INVALID_REQUEST")
    assert not User.objects.filter(username="newplayer").exists()
