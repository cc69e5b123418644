import pytest

from apps.wallet.signals import transaction_posted


@pytest.fixture
def posted() -> list[dict]:
    """The payloads of every `transaction_posted` sent during the test, in order."""
    received: list[dict] = []

    def receiver(sender, signal, event_id, **payload):
        received.append(payload)

    transaction_posted.connect(receiver, weak=False)
    yield received
    transaction_posted.disconnect(receiver)
