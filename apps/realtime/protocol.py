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


def alert(event: dict) -> dict:
    """From compliance's `alert_raised` payload: an alert of a behaviour rule, for the back office."""
    return {
        "type": "alert",
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
