"""/healthz says the process is alive; /readyz checks the database and Redis, naming what failed."""

import pytest
import redis

from apps.common import health
from tests.support import free_port as closed_port  # free, so nothing listens there


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@pytest.mark.django_db
def test_readyz_reports_dead_redis(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "redis": "error"}
    assert "Connection" in body["errors"]["redis"]
    assert "database" not in body["errors"]


@pytest.mark.django_db
def test_readyz_refuses_a_redis_too_old_for_the_mailroom(client, monkeypatch):
    real_info = redis.Redis.info

    def info(self, section=None, *args, **kwargs):
        answer = real_info(self, section, *args, **kwargs)
        return {**answer, "redis_version": "6.2.14"} if section == "server" else answer

    monkeypatch.setattr(redis.Redis, "info", info)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "error"}
    assert response.json()["errors"]["redis"] == (
        "Redis 7.0 or later is needed (the real-time mailroom reads with BZMPOP); this one is '6.2.14'"
    )


@pytest.mark.parametrize(
    ("version", "ready"), [("7.0.15", True), ("7.2.4", True), ("10.0.1", True), ("6.2.14", False), ("", False)]
)
def test_the_oldest_redis_that_serves_is_7_0(version, ready):
    assert (health.redis_too_old(version) is None) is ready


@pytest.mark.django_db
def test_readyz_without_redis_configured_checks_only_the_database(client, settings):
    settings.REDIS_URL = ""
    assert client.get("/readyz").json() == {"status": "ok", "checks": {"database": "ok"}}


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_well_formed_incoming_request_id_is_kept_and_junk_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234abcd")["X-Request-ID"] == "lb-1234abcd"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n{}")["X-Request-ID"] != "bad id\n{}"
