"""Logging filters. `RedactTickets` keeps the one-time WebSocket tickets (`?ticket=…`) out of the
ASGI server's logs: uvicorn logs each WebSocket accept and refusal with the path and its query
string, at INFO. A ticket is spent on first use and lives 60 s, but a log outlives both and is
read by more people than the player."""

from __future__ import annotations

import logging
import re

_TICKET = re.compile(r"(\bticket=)[^&\s\"']+")


def redact(text: str) -> str:
    return _TICKET.sub(r"\1[redacted]", text)


class RedactTickets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
