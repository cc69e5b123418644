#!/usr/bin/env bash
# `make serve`: the ASGI server processes and, beside them, the outbox sweeper (which re-dispatches
# domain events a crash left undispatched). Stopping either one, or this script, stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${HOST:=127.0.0.1}" "${PORT:=8000}" "${WORKERS:=2}"

.venv/bin/python manage.py outbox_sweeper &
sweeper=$!
.venv/bin/uvicorn pam.asgi:application --host "$HOST" --port "$PORT" --workers "$WORKERS" \
    --lifespan off --no-access-log &
server=$!

trap 'kill "$server" "$sweeper" 2>/dev/null || true' INT TERM
status=0
wait -n "$server" "$sweeper" || status=$?
kill "$server" "$sweeper" 2>/dev/null || true
wait || true
exit "$status"
