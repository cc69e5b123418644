"""Logging filters. `RedactTickets` keeps the secrets that WebSocket URLs carry out of the ASGI
server's logs: uvicorn logs each WebSocket accept and refusal with the path and its query string,
at INFO. They are the one-time tickets of PAM's own sockets (`?ticket=…`: spent on first use and
living 60 s, but a log outlives both and is read by more people than the player) and the studio's
play-session keys (`?session=…`: whoever holds one bets with the player's session while it lives).
"""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"(\b(?:ticket|session)=)[^&\s\"']+")


def redact(text: str) -> str:
    return _SECRET.sub(r"\1[redacted]", text)


class RedactTickets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
