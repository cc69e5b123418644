"""The Docker image's process roles and compose.yaml (Docker is not needed: the file is read as
YAML and the entrypoint run with `--dry-run`, which prints each role's commands).

compose.yaml starts PostgreSQL, Redis and PAM's image once per role; every PAM service's command
is a role the entrypoint knows and that role runs the right program; the services that can say
they are healthy have a healthcheck, and the others wait for web (its migrations); no secret is
written in the file: SECRET_KEY and POSTGRES_PASSWORD come from the untracked `.env`. The beat
is its own process everywhere, never `worker -B`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "scripts" / "docker-entrypoint.sh"
PAM_SERVICES = {"web": "uvicorn", "sweeper": "python manage.py outbox_sweeper", "worker": "celery -A pam worker",
                "beat": "celery -A pam beat"}  # fmt: skip


def dry_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), "--dry-run", *args], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_starts_postgres_redis_and_each_role_of_the_image(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", *PAM_SERVICES}
    for name, program in PAM_SERVICES.items():
        service = services[name]
        assert (service["build"], service["image"]) == (".", "pam:latest"), name
        assert service["command"] == [name]
        ran = dry_run(*service["command"])
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.splitlines()[-1].startswith(program), ran.stdout
        assert service["environment"]["DATABASE_URL"].startswith("postgres://pam:${POSTGRES_PASSWORD:?")
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert service["environment"]["PAM_ENV"] == "production"


def test_web_migrates_before_it_serves_and_is_the_images_default_role():
    assert dry_run("web").stdout.splitlines() == dry_run().stdout.splitlines()
    first, *metrics_dir, last = dry_run("web").stdout.splitlines()
    assert first == "python manage.py migrate --noinput"
    # The workers' metrics files in a fresh directory, for one scrape of them all (docs/metrics.md).
    assert metrics_dir == ["mkdir -p /tmp/pam/metrics", "find /tmp/pam/metrics -maxdepth 1 -name *.db -type f -delete"]
    assert last.startswith("uvicorn pam.asgi:application --host 0.0.0.0 --port 8000 --workers 2")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["scripts/docker-entrypoint.sh"]' in dockerfile
    assert 'CMD ["web"]' in dockerfile


def test_an_unknown_role_is_refused_with_the_roles_it_knows():
    ran = dry_run("scheduler")
    assert ran.returncode == 64
    assert ran.stderr.strip() == "unknown role 'scheduler': one of web, sweeper, worker, beat"


def test_healthchecks_and_start_order(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["web"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    for name in ("sweeper", "worker", "beat"):
        assert services[name]["depends_on"]["web"] == {"condition": "service_healthy"}, name


def test_no_secret_is_written_in_compose_and_the_env_file_stays_out_of_git_and_the_image(compose):
    text = (ROOT / "compose.yaml").read_text()
    assert re.search(r"SECRET_KEY\s*[:=]", text) is None
    assert all("SECRET_KEY" not in service.get("environment", {}) for service in compose["services"].values())
    assert re.findall(r"POSTGRES_PASSWORD: (.*)", text) == [
        "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env (docs/deployment.md)}"
    ]
    for name in PAM_SERVICES:
        assert compose["services"][name]["env_file"] == ".env"
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_beat_runs_in_its_own_process_never_inside_a_worker():
    for role in ("worker", "beat"):
        command = dry_run(role).stdout
        assert " -B" not in command
        assert "--beat" not in command
    lines = (ROOT / "scripts" / "worker.sh").read_text().splitlines()
    script = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert "celery -A pam worker" in script
    assert "celery -A pam beat" in script
    assert " -B" not in script
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^worker: .*\n(\t.*\n)*\tPAM_ENV=production DEBUG=false exec scripts/worker.sh$", makefile, re.M)
