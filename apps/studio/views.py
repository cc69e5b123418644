"""The studio's pages. Async: a game's page calls the wallet over HTTP, which may be this very
server, so no view may hold the thread that serves Django's sync views while it waits."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from apps.studio import catalogue, crash_verify, roulette, slot
from apps.studio.models import CrashChain
from apps.studio.sessions import LaunchRefused, open_session

# The page of each type of game the catalogue holds.
PAGES = {"slots": "studio/slot.html", "table": "studio/roulette.html", "crash": "studio/crash.html"}

SLOT_STAKES = (10, 20, 50, 100, 200, 500, 1000)  # minor units for the ten lines
CHIPS = (10, 50, 100, 500, 1000)

# The roulette layout as a player sees it: the top row holds 3, 6 … 36 (column 3).
BOARD = [{"column": column, "numbers": [(n, roulette.colour(n)) for n in range(column, 37, 3)]} for column in (3, 2, 1)]


def _game_context(game_type: str) -> dict:
    if game_type == "slots":
        return {"rows": range(slot.ROWS), "reels": range(slot.REELS), "stakes": SLOT_STAKES}
    if game_type == "table":
        return {"board": BOARD, "chips": CHIPS}
    return {}


# Shown inside PAM's site's iframe (same origin while the studio is served by PAM).
@xframe_options_sameorigin
async def play(request: HttpRequest, game_code: str) -> HttpResponse:
    """Where a launch URL points: open the session and show the game."""
    try:
        session, key, balance = await open_session(game_code=game_code, query=request.GET.dict())
    except LaunchRefused as refused:
        status = {"UNKNOWN_GAME": 404, "WALLET_UNAVAILABLE": 503}.get(refused.code, 403)
        return render(request, "studio/refused.html", {"code": refused.code, "message": refused.message}, status=status)
    game = catalogue.get(game_code)
    context = {"game": game, "session": session, "session_key": key, "balance": balance}
    return render(request, PAGES[game.game_type], {**context, **_game_context(game.game_type)})


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
