"""What a long-running PAM process does once it has loaded everything it serves with.

A warmed PAM process holds about 170,000 objects that live as long as it does: Django, the apps,
their models, URL patterns and views. CPython's cyclic garbage collector walks every one of them
at each full (oldest-generation) collection, which it runs by itself every so many allocations:
about 110 ms on this project's 2-core machine, with the GIL held, so every request, socket frame
and timer of the process waits that long (measured tails: an in-play bet released 92 ms late, odds
and crash-room frames past 100 ms at p99). `gc.freeze()` moves the objects alive now into a
permanent generation that no collection walks again: a full collection then costs what the
objects made since cost. Nothing is leaked by it: frozen objects are never freed, and these never
would be anyway.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Load the URL patterns (and so every view module, otherwise imported by the first request),
    collect what start-up left as garbage, and freeze the rest (module docstring)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - evaluated for its imports
    gc.collect()
    gc.freeze()
