"""docs/grafana-dashboard.json reads what PAM exports: every panel's expressions name metrics (and
labels) that apps.common.metrics and its scrape-time collectors define, every metric has a panel, and
the data source is the `${DS_PROMETHEUS}` input that Grafana asks for on import."""

from __future__ import annotations

import json
import re

import pytest
from prometheus_client import REGISTRY

from apps.common import metrics
from tests.support import ROOT

pytestmark = pytest.mark.django_db  # the outbox collector reads the database

DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"
DATASOURCE = "${DS_PROMETHEUS}"
# Labels Prometheus adds at scrape (instance, job), the histogram's buckets, and the process id
# prometheus_client adds to a `liveall` gauge.
ADDED_LABELS = {"instance", "job", "le", "pid"}
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def exported() -> tuple[dict[str, str], set[str]]:
    """{sample name: family} of every PAM metric, and every label they carry."""
    samples: dict[str, str] = {}
    families = [*REGISTRY.collect(), *metrics.OutboxCollector().collect(), *metrics.DatabaseAgesCollector().collect()]
    for family in families:
        if family.name.startswith("pam_"):
            for suffix in _SUFFIXES[family.type]:
                samples[family.name + suffix] = family.name
    labels = {
        label
        for collector in (value for value in vars(metrics).values() if hasattr(value, "_labelnames"))
        for label in collector._labelnames
    }
    return samples, labels


def panels() -> list[dict]:
    return [panel for panel in json.loads(DASHBOARD.read_text())["panels"] if panel["type"] != "row"]


def expressions() -> list[str]:
    return [target["expr"] for panel in panels() for target in panel["targets"]]


def test_the_data_source_is_the_imported_input():
    dashboard = json.loads(DASHBOARD.read_text())

    assert [(i["name"], i["type"], i["pluginId"]) for i in dashboard["__inputs"]] == [
        ("DS_PROMETHEUS", "datasource", "prometheus")
    ]
    for panel in panels():
        assert panel["datasource"]["uid"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        assert {target["datasource"]["uid"] for target in panel["targets"]} == {DATASOURCE}, panel["title"]
    assert {var["datasource"]["uid"] for var in dashboard["templating"]["list"]} == {DATASOURCE}


def test_every_expression_names_metrics_pam_exports():
    samples, _ = exported()

    for expr in expressions():
        named = re.findall(r"\b(pam_[a-z0-9_]+)", expr)
        assert named, f"no PAM metric in {expr!r}"
        assert set(named) <= set(samples), f"{sorted(set(named) - set(samples))} not exported ({expr!r})"


def test_every_label_an_expression_groups_or_matches_by_exists():
    _, labels = exported()

    for expr in expressions():
        grouped = [name.strip() for group in re.findall(r"\bby \(([^)]*)\)", expr) for name in group.split(",")]
        matchers = re.findall(r"\{([^}]*)\}", expr)
        matched = [name for within in matchers for name in re.findall(r"(\w+)\s*!?=~?", within)]
        unknown = set(grouped + matched) - labels - ADDED_LABELS
        assert not unknown, f"{sorted(unknown)} is no label of PAM's metrics ({expr!r})"


def test_every_metric_pam_exports_has_a_panel():
    samples, _ = exported()
    shown = {samples[name] for expr in expressions() for name in re.findall(r"\b(pam_[a-z0-9_]+)", expr)}

    assert set(samples.values()) - shown == set()


def test_the_panels_the_metrics_page_promises_are_there():
    titles = {panel["title"] for panel in panels()}

    assert {
        "Requests per second by route", "Latency p50 by route", "Latency p99 by route", "Bets per second",
        "Push latency (commit to channel layer)", "Open sockets", "Outbox backlog",
        "Age of the oldest undispatched event", "Webhook verdicts",
    } <= titles  # fmt: skip
