from contextlib import contextmanager

import pytest
import time_machine

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.compliance import signals
from apps.compliance.tests.factories import START


@pytest.fixture
def clock():
    """The clock stands still at START (a Monday noon, UTC) until the test moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff():
    return make_staff(StaffRole.COMPLIANCE)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...`: what the block commits runs its after-commit work (the outbox
    events' receivers, the rule engine among them) at the end of the block, as in production."""

    @contextmanager
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return run


@pytest.fixture
def notices():
    """The `player_notice` events sent (their payloads), in order."""
    sent = []

    def collect(sender, **payload):
        sent.append(payload)

    signals.player_notice.connect(collect, dispatch_uid="compliance_tests.notices")
    yield sent
    signals.player_notice.disconnect(dispatch_uid="compliance_tests.notices")
