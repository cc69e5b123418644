"""Reading /metrics as Prometheus does: the text format parsed by prometheus_client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, by (sample name, its labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client, **extra) -> Samples:
    """GET /metrics (from the test client's 127.0.0.1) and parse it; fails unless it is served."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/plain"), response["Content-Type"]
    return parse(response.content.decode())


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 for a series not there yet (a counter that was never incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}
