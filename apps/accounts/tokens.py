"""Bearer token format and hashing; the token itself is shown once and never stored."""

import hashlib
import secrets

TOKEN_PREFIX = "pam_"  # noqa: S105 - a marker that makes leaked tokens greppable, not a secret


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
