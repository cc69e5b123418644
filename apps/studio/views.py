"""The studio's pages. Async: a game's page calls the wallet over HTTP, which may be this very
server, so no view may hold the thread that serves Django's sync views while it waits."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.studio import catalogue
from apps.studio.sessions import LaunchRefused, open_session

# The page of each type of game the catalogue holds.
PAGES = {"slots": "studio/slot.html", "table": "studio/roulette.html", "crash": "studio/crash.html"}


async def play(request: HttpRequest, game_code: str) -> HttpResponse:
    """Where a launch URL points: open the session and show the game."""
    try:
        session, key, balance = await open_session(game_code=game_code, query=request.GET.dict())
    except LaunchRefused as refused:
        status = {"UNKNOWN_GAME": 404, "WALLET_UNAVAILABLE": 503}.get(refused.code, 403)
        return render(request, "studio/refused.html", {"code": refused.code, "message": refused.message}, status=status)
    game = catalogue.get(game_code)
    context = {"game": game, "session": session, "session_key": key, "balance": balance}
    return render(request, PAGES[game.game_type], context)
