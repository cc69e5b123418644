# PAM: the four commands of the README. Nothing else is needed on a fresh machine with Python 3.11,
# PostgreSQL and Redis on 127.0.0.1.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test serve worker bench lint format clean schema

$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

.env:
	@$(PYTHON) scripts/make_env.py .env

## run: the platform on http://$(HOST):$(PORT), embedded (SQLite) unless DATABASE_URL is set; the
## demo feed has no process behind it, so the server sends its heartbeat (SPORTSBOOK_DEMO_FEED)
run: $(VENV)/.runtime .env
	$(PY) manage.py migrate --noinput
	@$(PY) manage.py seed_demo
	@echo
	@echo "PAM is starting on http://$(HOST):$(PORT)/  (back office: http://$(HOST):$(PORT)/backoffice/, API docs: http://$(HOST):$(PORT)/api/docs/)"
	@echo
	PORT=$(PORT) SPORTSBOOK_DEMO_FEED=demo $(PY) manage.py runserver $(HOST):$(PORT)

# The browser test drives Debian's chromium (never a browser that Playwright downloads): install
# it with apt-get where it is missing, and stop loudly if that fails.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@echo "$(CHROMIUM) is missing: installing Debian's chromium for the browser test (apt-get)"
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
		|| { echo "make test needs $(CHROMIUM) for tests/browser: apt-get install chromium failed (run it as root)" >&2; exit 1; }
	@test -x $@ || { echo "apt-get ran but $@ is still missing" >&2; exit 1; }

## test: lint, format check and the whole suite against PostgreSQL and Redis on 127.0.0.1
test: $(VENV)/.dev $(CHROMIUM)
	@$(PY) -m tests.preflight
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n auto --dist loadfile

## serve: production-like (PostgreSQL, Redis, $(WORKERS) uvicorn processes and the outbox sweeper) on $(HOST):$(PORT)
serve: $(VENV)/.runtime .env
	@test -n "$$DATABASE_URL" || { echo "make serve needs DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/pam" >&2; exit 2; }
	@test -n "$$REDIS_URL" || { echo "make serve needs REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379/0" >&2; exit 2; }
	PAM_ENV=production DEBUG=false $(PY) manage.py create_database
	PAM_ENV=production DEBUG=false $(PY) manage.py migrate --noinput
	PAM_ENV=production DEBUG=false HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) exec scripts/serve.sh

## worker: the reports' Celery worker and beat (two processes) beside `make serve`, with the same DATABASE_URL and REDIS_URL
worker: $(VENV)/.runtime .env
	@test -n "$$DATABASE_URL" || { echo "make worker needs DATABASE_URL, the same as make serve's" >&2; exit 2; }
	@test -n "$$REDIS_URL" || { echo "make worker needs REDIS_URL, the same as make serve's (the Celery broker)" >&2; exit 2; }
	PAM_ENV=production DEBUG=false exec scripts/worker.sh

# The RNG benchmark runs Debian's dieharder on the production RNG's bytes: installed like chromium,
# for make bench only (make test does not need it).
DIEHARDER := /usr/bin/dieharder
$(DIEHARDER):
	@echo "$(DIEHARDER) is missing: installing Debian's dieharder for the RNG benchmark (apt-get)"
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dieharder \
		|| { echo "make bench needs $(DIEHARDER) for bench/rng.py: apt-get install dieharder failed (run it as root)" >&2; exit 1; }
	@test -x $@ || { echo "apt-get ran but $@ is still missing" >&2; exit 1; }

## bench: the benchmarks, each printing its figures beside the baseline measured in the same run
bench: $(VENV)/.dev $(DIEHARDER)
	@$(PY) -m tests.preflight
	$(PY) -m bench

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) .data staticfiles .pytest_cache .ruff_cache

## schema: regenerate docs/openapi.yaml from the code (a test checks it is current)
schema: $(VENV)/.runtime
	$(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml
