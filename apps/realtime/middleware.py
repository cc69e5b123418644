"""WebSocket authentication by one-time ticket (`?ticket=T`), beside the session cookie that
Channels' AuthMiddlewareStack reads. Puts the ticket's player, or None, in `scope["ticket_player"]`, and
the sign-in that asked for the ticket in `scope["ticket_credential"]` (and a session's password hash in
`scope["ticket_session_hash"]`)."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings

from apps.realtime import services


class TicketAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        tickets = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ticket")
        scope = dict(scope)
        scope["ticket_player"] = None
        scope["ticket_credential"] = ""
        scope["ticket_session_hash"] = ""
        scope["ticket_given"] = bool(tickets)
        if tickets:
            redeemed = await database_sync_to_async(services.redeem)(ticket=tickets[0])
            if redeemed is not None:
                scope["ticket_player"], scope["ticket_credential"] = redeemed.player, redeemed.credential
                scope["ticket_session_hash"] = redeemed.session_hash
        return await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Refuses a cross-site browser socket (an Origin not in ALLOWED_HOSTS), which could ride on
    the player's session cookie. A client without Origin is not a browser page: it proves itself
    with a ticket or its own cookie, so it is let through to the authentication that follows."""

    def __init__(self, application):
        super().__init__(application, settings.ALLOWED_HOSTS)

    def valid_origin(self, parsed_origin) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)
