"""Opening a play session from a launch, and finding it again (docs/studio.md, "Launch")."""

from __future__ import annotations

import contextlib

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from apps.common import launch
from apps.common.tokens import hash_token, new_token
from apps.studio import catalogue, recovery, wallet_client
from apps.studio.models import Session
from apps.studio.threads import in_db_thread


class LaunchRefused(Exception):
    """The launch cannot open a session: `code` is the wallet's refusal, or LAUNCH_INVALID (a
    signature that does not hold), UNKNOWN_GAME or WALLET_UNAVAILABLE (no answer)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def open_session(*, game_code: str, query: dict[str, str]) -> tuple[Session, str, int]:
    """Check the launch, exchange its token with the wallet and record the session: (the session,
    its key, the player's balance). Raises LaunchRefused."""
    params = launch.verify(settings.STUDIO_PROVIDER_SECRET, game_code, query)
    if params is None:
        raise LaunchRefused("LAUNCH_INVALID", "This game link is not valid. Open the game from the lobby again.")
    if catalogue.get(game_code) is None:
        raise LaunchRefused("UNKNOWN_GAME", "There is no such game.")
    try:
        min_cycle_ms = int(params["min_cycle_ms"])
    except ValueError:
        raise LaunchRefused("LAUNCH_INVALID", "This game link is not valid.") from None
    async with wallet_client.scoped() as wallet:
        try:
            answer = await wallet.call("authenticate", {"token": params["token"]})
        except wallet_client.WalletUnavailable:
            raise LaunchRefused("WALLET_UNAVAILABLE", "The game cannot reach your wallet. Try again shortly.") from None
        if not answer.ok:
            raise LaunchRefused(answer.code or "INTERNAL_ERROR", "This game link has been used or has expired.")
        player_id, currency = str(answer.body["player_id"]), answer.body["currency"]
        balance = int(answer.body["balance"])
        # The embedded server has no sweeper: a player's rounds left unfinished by a crash are
        # finished when they come back. In a worker thread of its own, since it calls the wallet
        # synchronously.
        if await sync_to_async(recovery.recover_player, thread_sensitive=False)(player_id):
            with contextlib.suppress(wallet_client.WalletUnavailable):
                again = await wallet.call("balance", {"player_id": player_id, "currency": currency})
                balance = int(again.body["balance"]) if again.ok else balance
    key = new_token("ss_")
    session = await Session.objects.acreate(
        key_hash=hash_token(key),
        player_id=player_id,
        currency=currency,
        game_code=game_code,
        jurisdiction=params["jurisdiction"],
        min_cycle_ms=max(min_cycle_ms, 0),
        autoplay_allowed=params["autoplay"] == "1",
        show_session_info=params["session_info"] == "1",
        opened_at=timezone.now(),
    )
    return session, key, balance


async def find_session(key: str) -> Session | None:
    if not key:
        return None
    return await in_db_thread(Session.objects.filter(key_hash=hash_token(key)).first)()
