#!/usr/bin/env bash
# `make serve`: the ASGI server processes and, beside them, the outbox sweeper (which re-dispatches
# domain events a crash left undispatched). Stopping either one, or this script, stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${HOST:=127.0.0.1}" "${PORT:=8000}" "${WORKERS:=2}"

# Every process (each worker, the sweeper) keeps its metrics in a file here, so that a scrape of
# /metrics on any worker shows them all (docs/metrics.md). Emptied at each start: the counters of
# a previous run must not be added to this one's. One directory per port, so that two servers on
# one machine keep apart; only the metrics' own files (*.db) are deleted from a directory given.
: "${PROMETHEUS_MULTIPROC_DIR:=${PAM_DATA_DIR:-.data}/metrics-$PORT}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -type f -delete
export PROMETHEUS_MULTIPROC_DIR

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
