#!/usr/bin/env bash
# `make serve`: the ASGI server processes and, beside them, the outbox sweeper (which re-dispatches
# domain events a crash left undispatched). Stopping either one, or this script, stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${HOST:=127.0.0.1}" "${PORT:=8000}" "${WORKERS:=2}"

.venv/bin/python manage.py outbox_sweeper &
sweeper=$!
# No permessage-deflate: frames are a few hundred bytes, and compression state doubled the memory
# of an idle socket (measured by the real-time benchmark: 80-100 KiB with it, 43-45 without).
.venv/bin/uvicorn pam.asgi:application --host "$HOST" --port "$PORT" --workers "$WORKERS" \
    --lifespan off --no-access-log --ws-per-message-deflate false &
server=$!

trap 'kill "$server" "$sweeper" 2>/dev/null || true' INT TERM
status=0
wait -n "$server" "$sweeper" || status=$?
kill "$server" "$sweeper" 2>/dev/null || true
wait || true
exit "$status"
