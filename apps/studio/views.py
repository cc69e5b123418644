"""The studio's pages. Async: a game's page calls the wallet over HTTP, which may be this very
server, so no view may hold the thread that serves Django's sync views while it waits."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.studio import catalogue, crash_verify
from apps.studio.models import CrashChain
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


def crash_verify_page(request: HttpRequest) -> HttpResponse:
    """Public: check a round (by number) or a seed against the chain's commitment, and the recent
    rounds with their seeds once crashed (docs/crash-room.md, "Verifier")."""
    query = request.GET.get("q", "").strip()[:100]
    checked = crash_verify.check(query) if query else None
    chain = CrashChain.objects.order_by("-pk").first()
    context = {
        "query": query,
        "checked": checked,
        "not_found": bool(query) and checked is None,
        "commitment": chain.commitment if chain else None,
        "rounds": crash_verify.recent_rounds(),
    }
    return render(request, "studio/crash_verify.html", context, status=404 if context["not_found"] else 200)
