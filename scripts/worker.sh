#!/usr/bin/env bash
# `make worker`: a Celery worker and Celery beat (the reports' schedule), as two processes beside
# `make serve`. Never `worker -B`: the beat would die with the worker, and a second worker would
# bring a second beat (every report queued twice). Stopping either one, or this script, stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PAM_DATA_DIR:=.data}"
mkdir -p "$PAM_DATA_DIR"

.venv/bin/celery -A pam worker --loglevel "${CELERY_LOG_LEVEL:-INFO}" --concurrency "${CELERY_CONCURRENCY:-2}" &
worker=$!
.venv/bin/celery -A pam beat --loglevel "${CELERY_LOG_LEVEL:-INFO}" --schedule "$PAM_DATA_DIR/celerybeat-schedule" &
beat=$!

trap 'kill "$worker" "$beat" 2>/dev/null || true' INT TERM
status=0
wait -n "$worker" "$beat" || status=$?
kill "$worker" "$beat" 2>/dev/null || true
wait || true
exit "$status"
