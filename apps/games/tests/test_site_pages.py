"""The site's lobby (`/games/`) and game page (`/games/<id>/play/`): the games with their type and
provider and a Play link for those PAM can open; the game framed under the site's header (with its
live balance), or the refusal's message instead, never an error page."""

from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings

from apps.accounts.tests.factories import make_player
from apps.common import launch
from apps.compliance import services as compliance
from apps.compliance.tests.factories import fresh
from apps.games.models import Game, LaunchToken
from apps.games.tests.factories import SECRET, game, provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def player(client):
    player = make_player()
    client.force_login(player.user)
    return player


def test_the_lobby_lists_the_games_with_a_play_link_for_those_that_open(client, player):
    slot = game(name="Acme Fruits")
    elsewhere = game(provider("catalogue-only", launch_url=""), "elsewhere", name="Elsewhere Poker",
                     game_type="table")  # fmt: skip

    page = client.get("/games/")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'aria-current="page">Games</a>' in html
    assert 'id="header-balance"' in html
    assert f'href="/games/{slot.pk}/play/" aria-label="Play Acme Fruits"' in html
    assert f'href="/games/{elsewhere.pk}/play/"' not in html
    row = html[html.index(f'data-game-id="{elsewhere.pk}"') :]
    assert "Table game · Catalogue-Only" in row[: row.index("</li>")]
    assert "Not available here" in row[: row.index("</li>")]
    studio_slot = Game.objects.get(provider__code=settings.STUDIO_PROVIDER_CODE, code="pam-slot")
    assert f'href="/games/{studio_slot.pk}/play/"' in html


def test_the_game_page_frames_the_signed_launch_under_the_header(client, player):
    slot = game(name="Acme Fruits")

    page = client.get(f"/games/{slot.pk}/play/")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="header-balance"' in html
    assert 'aria-current="page">Games</a>' in html
    start = html.index('<iframe class="game-frame" id="game-frame" src="') + len(
        '<iframe class="game-frame" id="game-frame" src="'
    )
    src = unescape(html[start : html.index('"', start)])
    assert src.startswith("https://games.acme.example/launch/acme-slot?")
    assert launch.verify(SECRET, "acme-slot", dict(parse_qsl(urlsplit(src).query))) is not None
    assert 'title="Acme Fruits"' in html
    assert LaunchToken.objects.filter(player=player, game=slot).count() == 1


def test_a_refused_launch_shows_its_message_instead_of_the_game(client, player):
    slot = game(name="Acme Fruits")
    compliance.start_time_out(player=player, hours=24)
    client.force_login(player.user)  # the time-out logged the player out everywhere

    page = client.get(f"/games/{slot.pk}/play/")

    html = page.content.decode()
    assert page.status_code == 403
    assert 'data-code="PLAYER_BLOCKED"' in html
    assert "<iframe" not in html
    assert LaunchToken.objects.exists() is False


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [(lambda: game(enabled=False).pk, 409, "GAME_UNAVAILABLE"), (lambda: 999_999_999, 404, "UNKNOWN_GAME")],
    ids=["disabled", "unknown"],
)
def test_a_game_that_cannot_open_shows_why(client, player, make, status, code):
    page = client.get(f"/games/{make()}/play/")

    assert page.status_code == status
    assert f'data-code="{code}"'.encode() in page.content
    assert b'role="alert"' in page.content


def test_a_reality_check_awaiting_its_answer_is_offered_on_the_game_page(client, player):
    slot = game(name="Acme Fruits")
    compliance.start_play_session(player=player)
    compliance.send_due_reality_check(player_id=player.pk, due_at=fresh(player).reality_check_due_at)

    page = client.get(f"/games/{slot.pk}/play/")

    html = page.content.decode()
    assert page.status_code == 403
    assert 'data-code="LIMIT_REACHED" data-reason="reality_check"' in html
    assert 'id="reality-check-choice" data-acknowledge="/api/player/v1/reality-check/ack"' in html
    assert "js/play.js" in html
    assert "<iframe" not in html


def test_other_refusals_offer_no_reality_check_answer(client, player):
    page = client.get(f"/games/{game(enabled=False).pk}/play/")
    assert b"reality-check-choice" not in page.content
    assert b"js/play.js" not in page.content
