"""Keyed hashes of what identifies a player's device, instrument or network.

A device id or a payment instrument is matched between players, never shown: only its HMAC-SHA256
under `IDENTITY_HASH_KEY` is stored (a plain hash of a short card number or a guessable value
could be reversed by trying them all; without the key it cannot). `purpose` separates the uses,
so one hash never matches a value of another kind.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def identity_hash(purpose: str, value: str) -> str:
    """The hex HMAC-SHA256 of `value` for `purpose` (64 characters)."""
    key = hashlib.sha256(f"pam.identity.{purpose}:{settings.IDENTITY_HASH_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
