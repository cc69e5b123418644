"""The frames of the real-time protocol (contracts/realtime.md), built in one place.

WebSocket consumers and the polling endpoints send exactly these dicts, so a client sees the
same frames whichever way it is connected.
"""

from __future__ import annotations

from apps.wallet.selectors import WalletState

RESYNC_AFTER = 500  # more missing frames than this: one `resync` instead of a replay


def _state(state: WalletState) -> dict:
    return {
        "version": state.version,
        "balance": state.balance,
        "cash": state.cash,
        "bonus": state.bonus,
        "currency": state.currency,
    }


def hello(state: WalletState) -> dict:
    return {"type": "hello", "player_id": state.player_id, **_state(state)}


def resync(state: WalletState, reason: str = "gap_too_old") -> dict:
    return {"type": "resync", **_state(state), "reason": reason}


def heartbeat(version: int) -> dict:
    return {"type": "heartbeat", "version": version}


def notice(kind: str, message: str, data: dict | None = None) -> dict:
    return {"type": "notice", "kind": kind, "message": message, "data": data or {}}


def wallet_updated(event: dict) -> dict:
    """From the wallet's `transaction_posted` payload (or a replayed ledger row, same keys)."""
    return {
        "type": "wallet.updated",
        "version": event["version"],
        "balance": event["balance"],
        "cash": event["cash"],
        "bonus": event["bonus"],
        "currency": event["currency"],
        "transaction": {
            "id": event["transaction_id"],
            "kind": event["kind"],
            "amount": event["amount"],
            "game_id": event["game_id"],
            "created_at": event["created_at"],
        },
    }


def market_updated(state: dict) -> dict:
    """The odds socket's frame (contracts/sportsbook.md, "Prices out") from a market's state as
    the sportsbook publishes it (`markets_changed`, or its selector for a snapshot)."""
    return {
        "type": "market.updated",
        "market_id": state["market_id"],
        "event_id": state["event_id"],
        "version": state["version"],
        "status": state["status"],
        "prices": state["prices"],
        "delayed": state["delayed"],
    }


# --- the back-office feed's frames (apps/realtime/feed.py): each carries `event` (its type in the
# feed's permission table), `player_id` and `brand` (the brand's code), for the server's filters.


def feed_wallet_updated(frame: dict, player_id: str, brand: str | None, event: str) -> dict:
    """A player's `wallet.updated` frame as the feed sends it: the contract's frame plus who it is
    about, and `amount`, the movement's size (unsigned) for the size filter. A payout moves nothing
    on the playable balance (its `transaction.amount` is 0): it has no `amount`, so a size filter
    never hides it."""
    amount = frame["transaction"]["amount"]
    size = None if frame["transaction"]["kind"] == "withdrawal_paid" else abs(amount)
    return {**frame, "player_id": player_id, "brand": brand, "event": event, "amount": size}


def limit_changed(event: dict, brand: str | None, currency: str | None) -> dict:
    """From compliance's `limit_changed` payload: a player's limit set, queued, confirmed or matured."""
    return {
        "type": "limit.changed",
        "event": "limit",
        "player_id": event["player_id"],
        "brand": brand,
        "kind": event["kind"],
        "period": event["period"],
        "status": event["status"],
        "old_amount": event["old_amount"],
        "new_amount": event["new_amount"],
        "currency": currency,
        "effective_at": event["effective_at"],
        "created_at": event["created_at"],
    }


def player_excluded(event: dict, brand: str | None) -> dict:
    """From compliance's `player_excluded` payload: a time-out or self-exclusion started."""
    return {
        "type": "player.excluded",
        "event": "exclusion",
        "player_id": event["player_id"],
        "brand": brand,
        "kind": event["kind"],
        "ends_at": event["ends_at"],
    }


def withdrawal_approved(event: dict, brand: str | None) -> dict:
    """From payments' `withdrawal_approved` payload: staff approved a withdrawal in the queue."""
    return {
        "type": "withdrawal.approved",
        "event": "withdrawal",
        "player_id": event["player_id"],
        "brand": brand,
        "withdrawal_id": event["withdrawal_id"],
        "amount": event["amount"],
        "currency": event["currency"],
        "approved_at": event["approved_at"],
    }


def alert(event: dict, brand: str | None = None) -> dict:
    """From compliance's `alert_raised` payload: an alert of a behaviour rule, for the back office
    (a game's RTP drift has no player, hence no brand)."""
    return {
        "type": "alert",
        "event": "alert",
        "brand": brand,
        "alert_id": event["alert_id"],
        "player_id": event["player_id"],
        "rule": event["rule"],
        "rule_version": event["rule_version"],
        "rule_type": event["rule_type"],
        "severity": event["severity"],
        "value": event["value"],
        "threshold": event["threshold"],
        "currency": event["currency"],
        "created_at": event["created_at"],
    }
