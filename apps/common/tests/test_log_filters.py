"""No one-time WebSocket ticket in the ASGI server's log lines (uvicorn logs the path and query
string of each WebSocket accept and refusal)."""

import logging

from apps.common.log_filters import redact


def test_uvicorn_log_lines_carry_no_ticket(caplog):
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        # As uvicorn's websockets and wsproto protocols log them.
        logging.getLogger("uvicorn.error").info(
            '%s - "WebSocket %s" [accepted]', "127.0.0.1:50712", "/ws/player/?ticket=Abc-123_xyz"
        )
        logging.getLogger("uvicorn.error").info('127.0.0.1:5 - "WebSocket /ws/player/?v=1&ticket=s3cret" 403')
    assert "Abc-123_xyz" not in caplog.text
    assert "s3cret" not in caplog.text
    assert '"WebSocket /ws/player/?ticket=[redacted]" [accepted]' in caplog.text
    assert "?v=1&ticket=[redacted]" in caplog.text


def test_the_studios_session_keys_are_redacted_too():
    line = '127.0.0.1:5 - "WebSocket /ws/studio/crash/?session=ss_Abc-123" [accepted]'
    assert redact(line) == '127.0.0.1:5 - "WebSocket /ws/studio/crash/?session=[redacted]" [accepted]'


def test_redact_leaves_other_text_alone():
    assert redact("GET /healthz?ticketing=1 200") == "GET /healthz?ticketing=1 200"
    assert redact("ticket=a&b=c") == "ticket=[redacted]&b=c"
