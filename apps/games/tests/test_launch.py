"""The launch (`services.launch`, `POST /api/player/v1/games/{game_id}/launch`): the signed URL
carries a token that opens the game once and the rules for play of the player's jurisdiction
profile; every refusal has the wallet's own code (or the games app's), and issues no token."""

import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.choices import StaffRole
from apps.accounts.services import issue_token
from apps.accounts.tests.factories import make_brand, make_player, make_staff
from apps.common import launch
from apps.compliance import services as compliance
from apps.compliance.models import JurisdictionProfile
from apps.compliance.tests.factories import fresh, limit
from apps.games import services
from apps.games.errors import TokenInvalid
from apps.games.models import Game, LaunchToken
from apps.games.tests.factories import SECRET, game, provider

pytestmark = pytest.mark.django_db

UKGC = {"jurisdiction": "UKGC", "min_cycle_ms": "2500", "autoplay": "0", "session_info": "1"}


def launch_path(game_id: int) -> str:
    return f"/api/player/v1/games/{game_id}/launch"


@pytest.fixture
def player():
    return make_player()


@pytest.fixture
def api(player):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(player.user)}")
    return client


def opened(url: str, secret: str, code: str) -> dict[str, str]:
    """The launch parameters of `url`, checked as the provider checks them."""
    params = launch.verify(secret, code, dict(parse_qsl(urlsplit(url).query)))
    assert params is not None, "the signature does not hold"
    return params


def assert_refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    return response.json()["error"]


def test_the_url_is_the_providers_signed_with_its_secret_and_carries_the_profiles_rules(api, player):
    slot = game()

    answer = api.post(launch_path(slot.pk))

    assert answer.status_code == 200, answer.content
    url = answer.json()["url"]
    assert url.startswith("https://games.acme.example/launch/acme-slot?token=")
    params = opened(url, SECRET, "acme-slot")
    assert {name: value for name, value in params.items() if name != "token"} == UKGC  # the default profile
    assert launch.verify(SECRET, "another-game", dict(parse_qsl(urlsplit(url).query))) is None


def test_the_token_is_bound_to_the_game_and_redeems_once(player):
    slot = game()

    params = opened(services.launch(player=player, game=slot), SECRET, slot.code)

    issued = LaunchToken.objects.get()
    assert (issued.player_id, issued.provider_id, issued.game_id) == (player.pk, slot.provider_id, slot.pk)
    assert services.redeem_launch_token(token=params["token"], provider=slot.provider) == player
    with pytest.raises(TokenInvalid):
        services.redeem_launch_token(token=params["token"], provider=slot.provider)


def test_each_launch_issues_a_new_token(player):
    slot = game()
    first = opened(services.launch(player=player, game=slot), SECRET, slot.code)["token"]
    second = opened(services.launch(player=player, game=slot), SECRET, slot.code)["token"]
    assert first != second
    assert LaunchToken.objects.count() == 2


def test_the_rules_are_those_of_the_brands_profile():
    brand = make_brand("malta", "Malta Casino")
    brand.jurisdiction = JurisdictionProfile.objects.get(code="MGA")
    brand.save()
    player = make_player(brand="malta")
    slot = game()

    params = opened(services.launch(player=player, game=slot), SECRET, slot.code)

    assert (params["jurisdiction"], params["min_cycle_ms"], params["autoplay"], params["session_info"]) == (
        "MGA", "0", "1", "0"
    )  # fmt: skip
    sweden = JurisdictionProfile.objects.get(code="SGA")
    brand.jurisdiction = sweden
    brand.save()
    params = opened(services.launch(player=fresh(player), game=slot), SECRET, slot.code)
    assert (params["min_cycle_ms"], params["autoplay"], params["session_info"]) == ("3000", "0", "1")


def test_an_edited_profile_reaches_the_next_launch(player):
    JurisdictionProfile.objects.filter(code="UKGC").update(min_game_cycle_ms=4_000, autoplay_allowed=True)
    slot = game()
    params = opened(services.launch(player=player, game=slot), SECRET, slot.code)
    assert (params["min_cycle_ms"], params["autoplay"]) == ("4000", "1")


def test_the_studios_games_launch_on_a_relative_url_signed_with_the_studios_secret(api):
    """Registered on migrate (apps/backoffice/studio.py): same origin, the studio's own secret."""
    slot = Game.objects.get(provider__code=settings.STUDIO_PROVIDER_CODE, code="pam-slot")

    url = api.post(launch_path(slot.pk)).json()["url"]

    assert url.startswith("/studio/play/pam-slot/?token=")
    assert opened(url, settings.STUDIO_PROVIDER_SECRET, "pam-slot")["min_cycle_ms"] == "2500"


def test_a_launch_url_with_a_query_of_its_own_keeps_it(player):
    slot = game(provider("with-query", launch_url="https://g.example/play?game={game}&lang=en"))
    url = services.launch(player=player, game=slot)
    assert url.startswith("https://g.example/play?game=acme-slot&lang=en&token=")
    opened(url, SECRET, slot.code)


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: game(enabled=False),
        lambda: game(provider(enabled=False)),
        lambda: game(provider("no-launch", launch_url="")),
    ],
    ids=["game disabled", "provider disabled", "no launch URL"],
)
def test_a_game_that_cannot_open_is_refused_game_unavailable(api, make):
    unavailable = make()

    assert_refused(api.post(launch_path(unavailable.pk)), 409, "GAME_UNAVAILABLE")
    assert LaunchToken.objects.exists() is False


def test_an_unknown_game_is_refused(api):
    assert_refused(api.post(launch_path(999_999_999)), 404, "UNKNOWN_GAME")
    assert_refused(api.post(launch_path(10**30)), 404, "UNKNOWN_GAME")  # past any id the database holds


def _time_out(player):
    compliance.start_time_out(player=player, hours=24)


def _self_exclude(player):
    compliance.self_exclude(player=player, period="6m")


def _lock(player):
    compliance.lock_account(player=player, message="locked by a test")


def _freeze(player):
    compliance.freeze_account(player=player, message="frozen by a test")


@pytest.mark.parametrize("block", [_time_out, _self_exclude, _lock, _freeze], ids=lambda f: f.__name__[1:])
def test_a_player_who_may_not_play_is_refused_player_blocked(player, block):
    slot = game()
    client = APIClient()
    client.force_authenticate(player.user)  # an exclusion ends the player's tokens; the refusal is the point
    block(fresh(player))

    assert_refused(client.post(launch_path(slot.pk)), 403, "PLAYER_BLOCKED")
    assert LaunchToken.objects.exists() is False


def test_a_player_paused_at_a_reality_check_is_refused_limit_reached_until_they_acknowledge(api, player):
    slot = game()
    compliance.start_play_session(player=player)
    assert compliance.send_due_reality_check(player_id=player.pk, due_at=fresh(player).reality_check_due_at)

    error = assert_refused(api.post(launch_path(slot.pk)), 403, "LIMIT_REACHED")
    assert error["reason"] == "reality_check"
    assert LaunchToken.objects.exists() is False

    compliance.acknowledge_reality_check(player=fresh(player))
    assert api.post(launch_path(slot.pk)).status_code == 200


def test_a_player_with_no_stake_left_under_a_limit_is_refused_limit_reached(api, player):
    slot = game()
    limit(player, "wager", "24h", 0)

    error = assert_refused(api.post(launch_path(slot.pk)), 403, "LIMIT_REACHED")
    assert error["reason"] == "responsible_gambling_limit"
    assert LaunchToken.objects.exists() is False


def test_staff_and_anonymous_are_refused():
    slot = game()
    staff = APIClient()
    staff.force_authenticate(make_staff(StaffRole.SUPPORT))
    assert_refused(staff.post(launch_path(slot.pk)), 403, "NOT_A_PLAYER")
    assert_refused(APIClient().post(launch_path(slot.pk)), 401, "NOT_AUTHENTICATED")
    assert LaunchToken.objects.exists() is False


def test_the_token_lives_ten_minutes(player):
    slot = game()
    opened(services.launch(player=player, game=slot), SECRET, slot.code)
    issued = LaunchToken.objects.get()
    assert issued.expires_at - issued.created_at == pytest.approx(dt.timedelta(minutes=10), abs=dt.timedelta(seconds=1))
