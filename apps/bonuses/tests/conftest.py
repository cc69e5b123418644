import pytest
import time_machine

from apps.compliance.tests.factories import START


@pytest.fixture
def clock():
    """The clock stands still at START (a Monday noon, UTC) until the test moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller
