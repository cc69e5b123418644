"""A bet whose wallet answer never came (nor its rollback's, or its process died mid-call) is
rolled back by a later round's settlement, against the real wallet API (a live server)."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import make_player
from apps.games import services as games
from apps.studio import crash_room, wallet_client
from apps.studio.models import CrashBet, CrashBetState, Session
from apps.wallet import services as wallet


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bet_left_pending_is_rolled_back_and_voided(live_server, settings):
    settings.STUDIO_WALLET_URL = live_server.url
    settings.STUDIO_CRASH_BETTING_MS = 1000
    games.save_provider(code=settings.STUDIO_PROVIDER_CODE, secret=settings.STUDIO_PROVIDER_SECRET)
    player = make_player(username="crash-pending")
    wallet.adjust_balance(player_id=player.pk, amount=1000, reason="test funds", acting_user=None)
    session = Session.objects.create(
        key_hash="0" * 64, player_id=str(player.pk), currency="EUR", game_code="pam-crash", opened_at=timezone.now()
    )
    first = crash_room.open_round()[0]
    bet = CrashBet.objects.create(
        round=first,
        session=session,
        player_id=session.player_id,
        currency="EUR",
        stake=300,
        placed_at=timezone.now() - crash_room.STALE_PENDING - timedelta(seconds=1),
    )
    # The wallet took the bet, but its answer never reached the studio.
    body = crash_room._body(bet, first.number, "bet", amount=300)
    taken = wallet_client.call_sync("bet", body)
    assert (taken.status, taken.body["balance"]) == (200, 700)
    assert crash_room.start_round(first)
    assert crash_room.crash_round(first).results == []  # a pending bet is not in play
    assert crash_room.owed_calls(first).stale == []  # its own round's pending bets may still be answered

    second = crash_room.open_round()[0]
    assert crash_room.start_round(second)
    assert crash_room.crash_round(second)
    stale = crash_room.owed_calls(second).stale
    assert [b.pk for b in stale] == [bet.pk]
    asyncio.run(crash_room.roll_back_stale(stale))
    bet.refresh_from_db()
    assert bet.state == CrashBetState.VOID
    balance = wallet_client.call_sync("balance", {"player_id": session.player_id, "currency": "EUR"})
    assert balance.body["balance"] == 1000
    # A late copy of the bet moves nothing.
    wallet_client.call_sync("bet", body)
    balance = wallet_client.call_sync("balance", {"player_id": session.player_id, "currency": "EUR"})
    assert balance.body["balance"] == 1000
    third = crash_room.open_round()[0]
    assert crash_room.start_round(third)
    assert crash_room.crash_round(third)
    assert crash_room.owed_calls(third).stale == []
