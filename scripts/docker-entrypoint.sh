#!/bin/sh
# The image's process roles, one per container (compose.yaml starts one of each):
#   web      migrate, then the ASGI server (uvicorn, $WORKERS processes on $PORT)   [default]
#   sweeper  the outbox sweeper: re-dispatches domain events a crash left undispatched
#   worker   a Celery worker: the reports' tasks (nothing on the money path is ever a task)
#   beat     Celery beat: the reports' schedule. Exactly one per deployment, in its own
#            process: never `worker -B`, which dies with its worker and runs one beat per
#            worker replica (each report queued as many times).
# `docker-entrypoint.sh --dry-run ROLE` prints the role's commands instead of running them.
# Extra arguments after the role go to its last command.
set -eu

dry_run=
if [ "${1:-}" = "--dry-run" ]; then
    dry_run=1
    shift
fi
role=${1:-web}
[ $# -gt 0 ] && shift

run() {
    if [ -n "$dry_run" ]; then
        echo "$*"
    else
        "$@"
    fi
}

last() {
    if [ -n "$dry_run" ]; then
        echo "$*"
        exit 0
    fi
    exec "$@"
}

data_dir=${PAM_DATA_DIR:-/tmp/pam}

case "$role" in
    web)
        run python manage.py migrate --noinput
        # Every uvicorn worker's metrics in one scrape of /metrics (docs/metrics.md): a directory
        # of their files, emptied at each start (a worker's figures die with its container).
        export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$data_dir/metrics}"
        run mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
        run find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -type f -delete
        # No permessage-deflate: scripts/serve.sh says why.
        last uvicorn pam.asgi:application --host 0.0.0.0 --port "${PORT:-8000}" --workers "${WORKERS:-2}" \
            --lifespan off --no-access-log --ws-per-message-deflate false "$@"
        ;;
    sweeper)
        last python manage.py outbox_sweeper "$@"
        ;;
    worker)
        last celery -A pam worker --loglevel "${CELERY_LOG_LEVEL:-INFO}" --concurrency "${CELERY_CONCURRENCY:-2}" "$@"
        ;;
    beat)
        run mkdir -p "$data_dir"
        last celery -A pam beat --loglevel "${CELERY_LOG_LEVEL:-INFO}" --schedule "$data_dir/celerybeat-schedule" "$@"
        ;;
    *)
        echo "unknown role '$role': one of web, sweeper, worker, beat" >&2
        exit 64
        ;;
esac
