"""The launch's URL opens PAM's own studio: the studio checks the signature with its own secret
(the settings' `STUDIO_PROVIDER_SECRET`, which the provider row was given at migrate), exchanges the
token with a real wallet over HTTP (PAM under uvicorn, on this run's database) and keeps the
profile's rules for play in its session; the same URL a second time opens nothing."""

from urllib.parse import parse_qsl, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from apps.accounts.tests.factories import make_player
from apps.games import services
from apps.games.models import Game
from apps.studio.sessions import LaunchRefused, open_session
from tests.realtime.support import start_server, stop_server

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.timeout(120)]


@pytest.fixture
def wallet_server(tmp_path, settings):
    server = start_server(tmp_path, "wallet")
    settings.STUDIO_WALLET_URL = server.http
    yield server
    stop_server(server)


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_a_launch_opens_one_studio_session_with_the_profiles_rules(wallet_server):
    player = make_player()
    slot = Game.objects.get(provider__code=settings.STUDIO_PROVIDER_CODE, code="pam-slot")

    url = services.launch(player=player, game=slot)
    session, _, balance = async_to_sync(open_session)(game_code="pam-slot", query=query_of(url))

    assert (session.player_id, session.currency, balance) == (str(player.pk), "EUR", 0)
    assert (session.jurisdiction, session.min_cycle_ms, session.autoplay_allowed, session.show_session_info) == (
        "UKGC", 2_500, False, True
    )  # fmt: skip
    with pytest.raises(LaunchRefused) as again:
        async_to_sync(open_session)(game_code="pam-slot", query=query_of(url))
    assert again.value.code == "TOKEN_INVALID"
