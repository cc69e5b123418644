"""The concurrency tests hold up to 50 connections at once, one per thread. pytest-xdist runs all
of them on one worker (tests/plugin.py, MANY_CONNECTIONS); after each module the worker's pool is
closed, so that its idle connections do not add to the other tests' for the rest of the run."""

from __future__ import annotations

import pytest
from django.db import connections


@pytest.fixture(autouse=True, scope="module")
def _pool_closed_after_the_module(django_db_blocker):
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            if getattr(connection, "pool", None) is not None:
                connection.close()  # this thread's back to the pool, then every one closed with it
                connection.close_pool()
