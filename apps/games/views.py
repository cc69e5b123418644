"""The player site's lobby (`/games/`) and game page (`/games/<id>/play/`, docs/games.md).

Thin, like the player API's views (api/views.py): the lobby is rendered from the selectors, the
game page calls `services.launch` on the server and frames the URL it returns under the site's
header (with its live balance). A refusal is shown on the page with its message instead; one for
a reality check awaiting the player's answer offers that answer (continue playing, or log out).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.accounts import selectors as accounts
from apps.common.errors import PamError
from apps.games import selectors, services
from apps.games.choices import GameType


@login_required(login_url="site-login")
@require_GET
def lobby_page(request: HttpRequest) -> HttpResponse:
    player = accounts.get_player_for_request(request)
    if player is None:
        return render(request, "site/not_a_player.html")
    games = [
        {"game": game, "type": GameType(game.game_type).label, "launchable": selectors.is_launchable(game)}
        for game in selectors.list_lobby_games()
    ]
    return render(request, "games/lobby.html", {"games": games})


@login_required(login_url="site-login")
@require_GET
def play_page(request: HttpRequest, game_id: int) -> HttpResponse:
    """The game in a frame; a refusal (its status: the game unknown or unavailable, the player
    blocked or paused) shows its message instead. Every visit is a new launch: a launch's token
    opens the game once."""
    player = accounts.get_player_for_request(request)
    if player is None:
        return render(request, "site/not_a_player.html")
    game = url = None
    try:
        game = selectors.get_game(game_id)
        url = services.launch(player=player, game=game)
    except PamError as refused:
        context = {
            "game": game,
            "code": refused.code,
            "refusal": refused.message,
            "reason": refused.details.get("reason", ""),
            # A reality check awaiting the player's answer: the page offers it (static/js/play.js).
            "acknowledge": refused.details.get("reality_check", {}).get("acknowledge", ""),
        }
        return render(request, "games/play.html", context, status=refused.status)
    return render(request, "games/play.html", {"game": game, "url": url})
