"""The lobby (`GET /api/player/v1/games`): every enabled game of an enabled provider, by name, with
whether PAM can open it; the same for every brand."""

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.accounts.choices import StaffRole
from apps.accounts.services import issue_token
from apps.accounts.tests.factories import make_player, make_staff
from apps.games.models import Provider
from apps.games.tests.factories import game, provider

pytestmark = pytest.mark.django_db

LOBBY = "/api/player/v1/games"


def lobby_of(player) -> list[dict]:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(player.user)}")
    answer = client.get(LOBBY)
    assert answer.status_code == 200, answer.content
    assert list(answer.json()) == ["results"]
    return answer.json()["results"]


def test_the_lobby_lists_enabled_games_of_enabled_providers_with_whether_they_open():
    acme = provider()
    slot = game(acme, "acme-slot", name="Zebra Slot")
    table = game(acme, "acme-table", name="Acme Blackjack", game_type="table")
    game(acme, "acme-retired", enabled=False)
    listed_only = game(provider("catalogue-only", launch_url=""), "elsewhere", name="Elsewhere")
    game(provider("switched-off", enabled=False), "hidden")

    rows = [row for row in lobby_of(make_player()) if row["provider"] != settings.STUDIO_PROVIDER_CODE]

    assert rows == [
        {"id": table.pk, "code": "acme-table", "name": "Acme Blackjack", "provider": "acme-games",
         "game_type": "table", "launchable": True},
        {"id": listed_only.pk, "code": "elsewhere", "name": "Elsewhere", "provider": "catalogue-only",
         "game_type": "slots", "launchable": False},
        {"id": slot.pk, "code": "acme-slot", "name": "Zebra Slot", "provider": "acme-games",
         "game_type": "slots", "launchable": True},
    ]  # fmt: skip


def test_the_studios_games_are_in_every_brands_lobby():
    studio = {"pam-roulette": "table", "pam-slot": "slots"}
    for brand in ("acme", "other"):
        rows = lobby_of(make_player(brand=brand))
        found = {row["code"]: row["game_type"] for row in rows if row["provider"] == settings.STUDIO_PROVIDER_CODE}
        assert found.items() >= studio.items()
        assert all(row["launchable"] for row in rows if row["provider"] == settings.STUDIO_PROVIDER_CODE)


def test_staff_and_anonymous_are_refused():
    staff = APIClient()
    staff.force_authenticate(make_staff(StaffRole.SUPPORT))
    assert staff.get(LOBBY).json()["error"]["code"] == "NOT_A_PLAYER"
    anonymous = APIClient().get(LOBBY)
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "NOT_AUTHENTICATED")


def test_create_provider_sets_the_launch_url_and_keeps_it_when_not_given():
    call_command("create_provider", "cli-games", "--secret", "s3cret-0123456789", "--launch-url", "https://g/{game}")
    call_command("create_provider", "cli-games", "--secret", "rotated-0123456789")

    saved = Provider.objects.get(code="cli-games")
    assert (saved.secret, saved.launch_url) == ("rotated-0123456789", "https://g/{game}")
