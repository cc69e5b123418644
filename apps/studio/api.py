"""The studio's players' API, under /studio/api/ (docs/studio.md, "API"). Plain async Django views:
the round calls the wallet over HTTP, which may be this very server, so no view may hold the
thread that serves Django's sync views while it waits."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.studio import rounds
from apps.studio.sessions import find_session

MAX_BODY = 16 * 1024  # fifty roulette bets fit many times over


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


# CSRF protects a cookie-authenticated request forged by another site. These requests carry no
# cookie of ours: the session key in the URL is the credential (only its hash is stored), and a
# forging site cannot know it. The game's page is also shown in PAM's iframe, on another origin
# when the studio is lifted out, where the site's CSRF cookie would not reach it anyway.
@csrf_exempt
async def session_rounds(request: HttpRequest, key: str) -> JsonResponse:
    """POST a round: `{"request_id", "stake"}` (slot) or `{"request_id", "bets"}` (roulette), with
    `"autoplay": true` when the client's autoplay sent it."""
    if request.method != "POST":
        response = _error("METHOD_NOT_ALLOWED", "Send rounds with POST.", 405)
        response["Allow"] = "POST"
        return response
    session = await find_session(key)
    if session is None:
        return _error("SESSION_NOT_FOUND", "There is no such game session. Open the game from the lobby again.", 404)
    if len(request.body) > MAX_BODY:
        return _error("INVALID_REQUEST", f"The body is over {MAX_BODY} bytes.", 413)
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error("INVALID_REQUEST", "The body is not JSON.", 400)
    status, answer = await rounds.play(session, body)
    response = JsonResponse(answer, status=status)
    if answer.get("error", {}).get("code") == "SPIN_TOO_SOON":
        response["Retry-After"] = str(-(-answer["error"]["retry_after_ms"] // 1000))
    return response
