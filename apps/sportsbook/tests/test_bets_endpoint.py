"""The placement's plain Django view (api/views.py, `bets_endpoint`): the same authentication,
permissions, parsing and answers as the DRF class it serves, which the schema still documents.
Plainly valid bodies are read without the input serializer, as the serializer reads them; any
other body is the serializer's to refuse, in its words."""

import json
from decimal import Decimal
from unittest import mock

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.choices import StaffRole
from apps.accounts.services import issue_token
from apps.accounts.tests.factories import make_staff
from apps.sportsbook.api import views
from apps.sportsbook.api.views import BetsApi, SportsbookBetInputSerializer, _slip_fields
from apps.sportsbook.intake import MAX_LEGS, LegRequest
from apps.sportsbook.models import Bet
from apps.sportsbook.tests.factories import BETS, a_match, slip
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db

LEG = {"selection_id": "mk-1-home", "price": "3.10", "market_version": 1}


def _leg(**changes) -> dict:
    return {"stake": 1_000, "currency": "EUR", "legs": [{**LEG, **changes}]}


VALID = [
    slip(("mk-1-home", "3.10", 1)),
    {"stake": 1, "currency": "JPY", "legs": [LEG]},  # accept_price_changes left out: "none"
    slip(("a", "1.01", 7), ("b", "99999.99", 1), ("c", "2", 3), accept="any", stake=10**12),
    {**slip(*[(f"s{n}", "1.5", 1) for n in range(MAX_LEGS)], accept="higher"), "extra": "ignored"},
    _leg(selection_id="é" * 100),
]
INVALID = [
    None, [], "slip", {}, {"stake": 1_000, "currency": "EUR"},
    {**slip(("mk-1-home", "3.10", 1)), "stake": True}, {**slip(("mk-1-home", "3.10", 1)), "stake": 100.0},
    {**slip(("mk-1-home", "3.10", 1)), "stake": "100"}, {**slip(("mk-1-home", "3.10", 1)), "stake": 0},
    {**slip(("mk-1-home", "3.10", 1)), "stake": 10**18}, {**slip(("mk-1-home", "3.10", 1)), "currency": "eur"},
    {**slip(("mk-1-home", "3.10", 1)), "currency": ["EUR"]}, {**slip(("mk-1-home", "3.10", 1)), "currency": None},
    {**slip(("mk-1-home", "3.10", 1)), "accept_price_changes": None},
    {**slip(("mk-1-home", "3.10", 1)), "accept_price_changes": "ANY"},
    {"stake": 1_000, "currency": "EUR", "legs": []}, {"stake": 1_000, "currency": "EUR", "legs": {"0": LEG}},
    {"stake": 1_000, "currency": "EUR", "legs": [LEG] * (MAX_LEGS + 1)},
    {"stake": 1_000, "currency": "EUR", "legs": ["mk-1-home"]}, {"stake": 1_000, "currency": "EUR", "legs": [None]},
    _leg(price=3.1), _leg(price="1.00"), _leg(price="3.101"), _leg(price=None), _leg(market_version="1"),
    _leg(market_version=0), _leg(market_version=True), _leg(market_version=1.0), _leg(selection_id=""),
    _leg(selection_id="a\n"), _leg(selection_id="x" * 101), _leg(selection_id=5),
    {"stake": 1_000, "currency": "EUR", "legs": [{"selection_id": "mk-1-home", "price": "3.10"}]},
]  # fmt: skip


@pytest.mark.parametrize("body", VALID)
def test_a_plainly_valid_body_is_read_as_the_serializer_reads_it(body):
    serializer = SportsbookBetInputSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
    fields = serializer.validated_data
    legs = [LegRequest(leg["selection_id"], leg["price"], leg["market_version"]) for leg in fields["legs"]]

    assert _slip_fields(body) == {"stake": fields["stake"], "currency": fields["currency"], "legs": legs,
                                  "accept_price_changes": fields["accept_price_changes"]}  # fmt: skip


@pytest.mark.parametrize("body", INVALID)
def test_any_other_body_is_left_to_the_serializer(body):
    assert _slip_fields(body) is None


@pytest.mark.parametrize("body", [INVALID[0], INVALID[3], INVALID[5], INVALID[19], INVALID[20], INVALID[-1]])
def test_a_refused_body_is_answered_with_the_serializers_errors(api, player, body):
    serializer = SportsbookBetInputSerializer(data=body)
    assert not serializer.is_valid()

    response = api.post(BETS, json.dumps(body), content_type="application/json", headers={"Idempotency-Key": "k"})

    assert response.status_code == 400
    assert response.json() == {"error": {"code": "INVALID_REQUEST", "message": "Some fields are missing or invalid.",
                                         "fields": json.loads(json.dumps(serializer.errors))}}  # fmt: skip
    assert Bet.objects.exists() is False


def test_a_body_that_is_not_json_is_refused_as_drf_refuses_it(api, player):
    not_json = api.post(BETS, "{", content_type="application/json", headers={"Idempotency-Key": "k"})
    form = api.post(BETS, "stake=1", content_type="text/plain", headers={"Idempotency-Key": "k"})

    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "INVALID_REQUEST")
    assert not_json.json()["error"]["message"].startswith("JSON parse error")
    assert (form.status_code, form.json()["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")


def test_without_credentials_it_is_401_with_the_bearer_challenge():
    response = APIClient().post(BETS, slip(("mk-1-home", "3.10", 1)), format="json", headers={"Idempotency-Key": "k"})

    assert (response.status_code, response.json()["error"]["code"]) == (401, "NOT_AUTHENTICATED")
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_bad_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer nope")

    response = client.post(BETS, slip(("mk-1-home", "3.10", 1)), format="json", headers={"Idempotency-Key": "k"})

    assert (response.status_code, response.json()["error"]["code"]) == (401, "NOT_AUTHENTICATED")


def test_staff_are_not_players():
    client = APIClient()
    client.force_login(make_staff(StaffRole.SUPPORT))

    response = client.post(BETS, slip(("mk-1-home", "3.10", 1)), format="json", headers={"Idempotency-Key": "k"})

    assert (response.status_code, response.json()["error"]["code"]) == (403, "NOT_A_PLAYER")


def test_a_session_needs_its_csrf_token(player):
    a_match()
    client = Client(enforce_csrf_checks=True)
    client.force_login(player.user)
    body = json.dumps(slip(("mk-1-home", "3.10", 1)))

    refused = client.post(BETS, body, content_type="application/json", headers={"Idempotency-Key": "k"})
    client.get("/")  # the site's page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    taken = client.post(BETS, body, content_type="application/json",
                        headers={"Idempotency-Key": "k", "X-CSRFToken": token})  # fmt: skip

    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "PERMISSION_DENIED")
    assert taken.status_code == 201, taken.content
    assert taken.json()["legs"][0]["price"] == "3.10"
    assert Bet.objects.get().stake == 1_000


def test_a_placement_answers_as_drf_did_and_the_list_is_still_drfs(api, player):
    a_match()

    placed = api.post(BETS, slip(("mk-1-home", "3.10", 1)), format="json", headers={"Idempotency-Key": "k"})
    listed = api.get(BETS)
    other = api.put(BETS, {}, format="json")

    assert placed.status_code == 201
    assert placed["Content-Type"] == "application/json"
    assert placed["Allow"] == listed["Allow"] == "GET, POST, HEAD, OPTIONS"
    assert listed.json()["results"][0]["bet_id"] == placed.json()["bet_id"]
    assert Bet.objects.get().potential_payout == 3_100
    assert (other.status_code, other.json()["error"]["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert Decimal(placed.json()["legs"][0]["price"]) == Decimal("3.10")


# --- the placement without DRF's request ------------------------------------------------------------

VARYING = ("bet_id", "placed_at")


def client_of(player) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(player.user)}")
    return client


def answered(response) -> tuple:
    """A response as a client sees it, without what differs between two bets (ids, times)."""
    body = response.json()
    if response.status_code == 201:
        body = {name: value for name, value in body.items() if name not in VARYING}
    headers = {name: value for name, value in response.items() if name.lower() in ("content-type", "allow")}
    return response.status_code, headers, body


def both_ways(post) -> tuple[tuple, tuple]:
    """`post(client, key)` by one player served without DRF's request (which must not be built)
    and by another through the DRF steps; each answer as `answered` sees it."""
    first, second = funded_player(10_000), funded_player(10_000)
    with mock.patch.object(BetsApi, "initialize_request", side_effect=AssertionError("DRF's request built")):
        plain = post(client_of(first), "key")
    with mock.patch.object(views, "_plain_placement", return_value=None):
        drf = post(client_of(second), "key")
    return answered(plain), answered(drf)


def placing(body: dict, **headers):
    def post(client, key):
        return client.post(BETS, json.dumps(body), content_type="application/json",
                           headers={"Idempotency-Key": key, **headers})  # fmt: skip

    return post


def test_a_placement_without_drfs_request_answers_as_the_drf_steps_do():
    a_match()

    plain, drf = both_ways(placing(slip(("mk-1-home", "3.10", 1))))

    assert plain == drf
    assert plain[0] == 201
    assert plain[1] == {"Content-Type": "application/json", "Allow": "GET, POST, HEAD, OPTIONS"}
    assert Bet.objects.count() == 2


def test_a_replay_without_drfs_request_answers_the_first_bet():
    a_match()

    def twice(client, key):
        first = placing(slip(("mk-1-home", "3.10", 1)))(client, key)
        again = placing(slip(("mk-1-home", "3.10", 1)))(client, key)
        assert again.json() == first.json()
        return again

    plain, drf = both_ways(twice)

    assert plain == drf
    assert Bet.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        (slip(("mk-1-home", "2.90", 1)), {}, "PRICE_CHANGED"),
        (slip(("nowhere", "3.10", 1)), {}, "UNKNOWN_SELECTION"),
        (slip(("mk-1-home", "3.10", 1), stake=20_000), {}, "INSUFFICIENT_FUNDS"),
        (slip(("mk-1-home", "3.10", 1), currency="USD"), {}, "CURRENCY_MISMATCH"),
        (slip(("mk-1-home", "3.10", 1)), {}, "STAKE_TOO_HIGH"),  # the maximum payout lowered below
    ],
)
def test_a_refusal_without_drfs_request_is_worded_as_the_drf_steps_word_it(body, headers, code, settings):
    if code == "STAKE_TOO_HIGH":
        settings.SPORTSBOOK_LIMITS = {**settings.SPORTSBOOK_LIMITS, "max_payout": 30}
    a_match()

    plain, drf = both_ways(placing(body, **headers))

    assert plain == drf
    assert plain[2]["error"]["code"] == code
    assert Bet.objects.exists() is False


def test_an_unexpected_error_without_drfs_request_is_a_500_in_the_apis_shape():
    a_match()
    with mock.patch.object(views.services, "place_bet", side_effect=RuntimeError("a bug")):
        plain, drf = both_ways(placing(slip(("mk-1-home", "3.10", 1))))

    assert plain == drf
    assert plain[0] == 500
    assert plain[2]["error"]["code"] == "INTERNAL_ERROR"


# Requests the DRF steps take whole, and their answer: a query string or a latin-1 body of ASCII
# changes nothing for them (201); NaN is not JSON to them, nor UTF-16, nor is a key with a tab a
# key (400).
OTHER_REQUESTS = {
    "bad key": ({"HTTP_IDEMPOTENCY_KEY": "key with\ta tab"}, 400),
    "accept": ({"HTTP_ACCEPT": "text/html"}, 406),
    "query": ({"QUERY_STRING": "format=json"}, 201),
    "charset": ({"CONTENT_TYPE": "application/json; charset=latin-1"}, 201),
    "malformed": ({"HTTP_AUTHORIZATION": "Bearer {token} more"}, 401),
    "unknown token": ({"HTTP_AUTHORIZATION": "Bearer unknown"}, 401),
    "NaN": ({"body": "NaN"}, 400),
    "utf-16": ({"body": "utf-16"}, 400),
    "long body": ({"body": "padded"}, 201),
}


@pytest.mark.parametrize("case", list(OTHER_REQUESTS))
def test_any_other_request_is_the_drf_steps_whole(case):
    a_match()
    player = funded_player(10_000)
    token = issue_token(player.user)
    extra, status = OTHER_REQUESTS[case]
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}", **extra}
    extra["HTTP_AUTHORIZATION"] = extra["HTTP_AUTHORIZATION"].format(token=token)
    body = json.dumps(slip(("mk-1-home", "3.10", 1)))
    padded = body[:-1] + ', "padding": "' + "x" * 20_000 + '"}'
    content = {"NaN": body.replace("1000", "NaN"), "utf-16": body.encode("utf-16"), "padded": padded}.get(
        extra.pop("body", ""), body
    )
    content_type = extra.pop("CONTENT_TYPE", "application/json")
    query = extra.pop("QUERY_STRING", "")

    steps = BetsApi.initialize_request
    with mock.patch.object(BetsApi, "initialize_request", autospec=True, side_effect=steps) as drf:
        answer = Client().post(f"{BETS}?{query}" if query else BETS, content, content_type=content_type,
                               **{"HTTP_IDEMPOTENCY_KEY": "key", **extra})  # fmt: skip

    assert drf.call_count == 1
    assert answer.status_code == status, answer.content


def test_a_staff_members_token_is_the_drf_steps_whole():
    a_match()
    staff = make_staff(StaffRole.SUPPORT)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(staff)}")

    response = client.post(BETS, slip(("mk-1-home", "3.10", 1)), format="json", headers={"Idempotency-Key": "k"})

    assert (response.status_code, response.json()["error"]["code"]) == (403, "NOT_A_PLAYER")
