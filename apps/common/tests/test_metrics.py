"""/metrics: who may read it, what the HTTP middleware records, and the outbox's figures and the
database's ages read at scrape time (docs/metrics.md). The cross-app figures (a bet, a socket, a
webhook) and several processes are in tests/metrics/."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client import REGISTRY

from apps.common import metrics, outbox
from apps.common.models import OutboxEvent
from apps.common.tests.scrape import names, scrape, value

pytestmark = pytest.mark.django_db

REQUESTS = "pam_http_request_duration_seconds_count"
OUTSIDER = "203.0.113.9"


# --- who may read it -----------------------------------------------------------------------------


def test_loopback_reads_it_in_the_prometheus_text_format(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"] == metrics.render()[1]
    assert "# TYPE pam_http_request_duration_seconds histogram" in response.content.decode()
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.head("/metrics").status_code == 200


def test_any_other_address_gets_the_404_of_a_page_that_does_not_exist(client):
    refused = client.get("/metrics", REMOTE_ADDR=OUTSIDER)
    unknown = client.get("/no-such-page", REMOTE_ADDR=OUTSIDER)

    assert refused.status_code == 404
    assert refused.content == unknown.content
    assert b"pam_" not in refused.content


def test_a_post_from_outside_is_a_404_too_not_csrfs_403():
    """A 403 would tell that something is there."""
    client = Client(enforce_csrf_checks=True)

    assert client.post("/metrics", REMOTE_ADDR=OUTSIDER).status_code == 404
    assert client.post("/metrics").status_code == 405


def test_the_allowed_addresses_are_a_setting_of_addresses_and_networks(client, settings):
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8", "2001:db8::7"]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="11.1.2.3").status_code == 404


def test_no_allowed_address_serves_nobody(client, settings):
    settings.METRICS_ALLOWED_ADDRESSES = []

    assert client.get("/metrics").status_code == 404


def test_loopback_seen_through_a_dual_stack_socket_is_loopback(client):
    assert client.get("/metrics", REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200


def test_a_forwarded_header_counts_only_from_a_trusted_proxy(client, settings):
    """Behind a trusted proxy on loopback, the request's origin decides, not the proxy's address;
    from anyone else, the header is the sender's word and is ignored."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR=OUTSIDER).status_code == 404
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200

    settings.TRUSTED_PROXIES = []
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR=OUTSIDER).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 404


def test_it_is_not_in_the_api_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert not [path for path in schema["paths"] if "metrics" in path]


# --- requests ------------------------------------------------------------------------------------


def test_a_request_is_counted_by_its_routes_name_method_and_status_class(client):
    before = scrape(client)

    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDER).status_code == 404

    after = scrape(client)
    assert value(after, REQUESTS, route="healthz", method="GET", status="2xx") == (
        value(before, REQUESTS, route="healthz", method="GET", status="2xx") + 2
    )
    assert value(after, REQUESTS, route="metrics", method="GET", status="4xx") == (
        value(before, REQUESTS, route="metrics", method="GET", status="4xx") + 1
    )
    bucket = value(
        after, "pam_http_request_duration_seconds_bucket", route="healthz", method="GET", status="2xx", le="+Inf"
    )
    assert bucket == value(after, REQUESTS, route="healthz", method="GET", status="2xx")
    assert value(after, "pam_http_request_duration_seconds_sum", route="healthz", method="GET", status="2xx") > 0


def test_a_route_is_the_patterns_name_never_the_path(client):
    """Ids in paths, and paths that match nothing, add no series: cardinality stays bounded."""
    before = scrape(client)

    client.get("/no-such-page-4711")
    client.get("/no-such-page-4712")
    client.get("/api/player/v1/games/12345/launch")  # a pattern with an id, refused without a login

    after = scrape(client)
    assert value(after, REQUESTS, route="unmatched", method="GET", status="4xx") == (
        value(before, REQUESTS, route="unmatched", method="GET", status="4xx") + 2
    )
    routes = {dict(labels).get("route") for name, labels in after if name == REQUESTS}
    assert not [route for route in routes if "4711" in route or "4712" in route or "12345" in route]
    assert "metrics" in routes  # the scrape itself, by its name


def test_an_unknown_method_is_other(client):
    before = scrape(client)

    client.generic("BREW", "/healthz")

    after = scrape(client)
    brewed = [labels for name, labels in after if name == REQUESTS and ("method", "BREW") in labels]
    assert brewed == []
    assert value(after, REQUESTS, route="healthz", method="other", status="2xx") == (
        value(before, REQUESTS, route="healthz", method="other", status="2xx") + 1
    )


async def test_the_middleware_counts_requests_served_asynchronously(async_client):
    """The studio's pages go through Django's ASGI handler: the middleware's async path."""
    labels = {"route": "healthz", "method": "GET", "status": "2xx"}
    before = REGISTRY.get_sample_value(REQUESTS, labels) or 0

    response = await async_client.get("/healthz")

    assert response.status_code == 200
    assert REGISTRY.get_sample_value(REQUESTS, labels) == before + 1


# --- the outbox ----------------------------------------------------------------------------------


def _event(created_at, **fields) -> OutboxEvent:
    return OutboxEvent.objects.create(name="wallet.transaction_posted", payload={}, created_at=created_at, **fields)


def test_the_outbox_backlog_and_its_oldest_age_are_read_at_scrape_time(client):
    now = timezone.now()
    _event(now - dt.timedelta(seconds=90))
    _event(now - dt.timedelta(seconds=5), claimed_until=now + outbox.LEASE)  # the sweeper has it
    _event(now - dt.timedelta(hours=3), dispatched_at=now - dt.timedelta(hours=3))  # done
    _event(now - dt.timedelta(days=2), attempts=outbox.MAX_ATTEMPTS, claimed_until=now + outbox.SET_ASIDE)

    samples = scrape(client)

    assert value(samples, "pam_outbox_backlog") == 2
    assert value(samples, "pam_outbox_set_aside") == 1
    # The oldest to dispatch is 90 s old (the set-aside one is older, and out of it).
    assert 90 <= value(samples, "pam_outbox_oldest_age_seconds") < 90 + 60


def test_an_empty_outbox_is_a_backlog_of_0_aged_0(client):
    _event(timezone.now(), dispatched_at=timezone.now())

    samples = scrape(client)

    assert (value(samples, "pam_outbox_backlog"), value(samples, "pam_outbox_oldest_age_seconds")) == (0, 0)
    assert "pam_outbox_backlog" in names(samples)


def test_the_backlog_is_one_statement_on_the_undispatched_rows_index():
    """A million dispatched rows cost the scrape nothing: the partial index holds only the
    undispatched ones. (ANALYZE is transactional: the test's rollback takes it back.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO common_outboxevent (name, payload, created_at, dispatched_at, attempts, last_error) "
            "SELECT 'x', '{}', now(), now(), 0, '' FROM generate_series(1, 20000)"
        )
        cursor.execute("ANALYZE common_outboxevent")
    _event(timezone.now())

    with CaptureQueriesContext(connection) as captured:
        found = outbox.backlog()

    assert found.pending == 1
    assert len(captured.captured_queries) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + captured.captured_queries[0]["sql"])
        document = cursor.fetchone()[0]
    plan = json.dumps(json.loads(document) if isinstance(document, str) else document)
    assert '"Index Name": "outbox_undispatched"' in plan
    assert '"Seq Scan"' not in plan


def test_a_database_that_fails_leaves_the_outbox_out_of_the_scrape_not_the_rest(client, monkeypatch):
    def broken():
        raise RuntimeError("database down")

    monkeypatch.setattr(outbox, "backlog", broken)

    samples = scrape(client)

    assert "pam_outbox_backlog" not in names(samples)
    assert REQUESTS in names(samples)


# --- the database's ages -------------------------------------------------------------------------


def test_the_database_s_transaction_id_and_multixact_ages_are_read_at_scrape_time(client):
    def ages() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(metrics._AGES_SQL)
            return cursor.fetchone()

    before = ages()
    samples = scrape(client)
    after = ages()

    assert before[0] <= value(samples, "pam_database_xid_age") <= after[0]
    assert before[1] <= value(samples, "pam_database_multixact_age") <= after[1]
    assert after[0] > 0  # a database in use has used transaction ids since its last freeze
