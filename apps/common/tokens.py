"""One-time secrets handed to a client (bearer tokens, launch tokens, WebSocket tickets).

The secret is shown once and never stored: tables keep its SHA-256, so a database leak gives no
logins. A high-entropy random token needs no salt or slow hash.
"""

import hashlib
import secrets


def new_token(prefix: str = "") -> str:
    """A URL-safe random token of 256 bits, after `prefix`."""
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
