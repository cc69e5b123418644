"""Idempotency keys of calls from outside: (origin, external id) plus a fingerprint of the body.

A retry carries the same fingerprint and gets the first answer; the same id with another
fingerprint is a conflict. The ledger stores both on the transaction row (apps.wallet.models).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class ExternalRef:
    """Who sent a call (`origin`, e.g. "provider:acme"), its id there, and its fingerprint."""

    origin: str
    external_id: str
    fingerprint: str


def fingerprint(operation: str, fields: dict) -> str:
    """SHA-256 of the operation and its fields, canonically serialised (key order is irrelevant)."""
    canonical = json.dumps([operation, fields], sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
