"""Keeps the crash room's session keys (`/ws/studio/crash/?session=…`) out of the ASGI server's
logs: uvicorn logs each WebSocket accept and refusal with its query string, and a session key lets
whoever holds it bet with the player's session for as long as the session lives."""

from __future__ import annotations

import logging
import re

_SESSION = re.compile(r"(\bsession=)[^&\s\"']+")


def redact(text: str) -> str:
    return _SESSION.sub(r"\1[redacted]", text)


class RedactSessionKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
