from contextlib import contextmanager

import pytest
import time_machine

from apps.compliance.tests.factories import START


@pytest.fixture
def clock():
    """The clock stands still at START (a Monday noon, UTC) until the test moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...`: what the block commits runs its after-commit work (the outbox
    events' receivers, the grants among them) at the end of the block, as in production."""

    @contextmanager
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return run
