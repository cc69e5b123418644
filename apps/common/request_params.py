"""The player APIs' shared request parameters: the Idempotency-Key header of a write that moves or
reserves money, and the cursor of a newest-first list."""

from __future__ import annotations

import re

from apps.common.errors import InvalidRequest

IDEMPOTENCY_KEY = "Idempotency-Key"
CURSOR_PATTERN = "^[1-9][0-9]{0,17}$"


def key_pattern(max_length: int) -> str:
    """Printable ASCII (a header carries no other text reliably), 1 to `max_length` characters,
    without the leading or trailing space HTTP would strip."""
    return f"^[!-~]([ -~]{{0,{max_length - 2}}}[!-~])?$"


KEY_PATTERN = key_pattern(100)


def idempotency_key(request, max_length: int = 100) -> str:
    """The request's Idempotency-Key; InvalidRequest unless it is 1 to `max_length` printable ASCII
    characters."""
    key = request.headers.get(IDEMPOTENCY_KEY, "")
    if not re.fullmatch(key_pattern(max_length), key):
        raise InvalidRequest(f"The {IDEMPOTENCY_KEY} header must be 1 to {max_length} printable ASCII characters.")
    return key


def cursor(request) -> int | None:
    """The `cursor` query parameter (the id a page starts below), None when absent; InvalidRequest
    for anything a previous page could not have given."""
    raw = request.query_params.get("cursor")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < len(raw) <= 18 or raw.startswith("0"):
        raise InvalidRequest("`cursor` is not one of ours.")
    return int(raw)
