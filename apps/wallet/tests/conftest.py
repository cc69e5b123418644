import pytest

from apps.wallet.signals import transaction_posted


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Players are made through registration, which hashes a password; the wallet tests don't
    test hashing, and argon2 would make them several times slower."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def posted() -> list[dict]:
    """The payloads of every `transaction_posted` sent during the test, in order."""
    received: list[dict] = []

    def receiver(sender, signal, event_id, **payload):
        received.append(payload)

    transaction_posted.connect(receiver, weak=False)
    yield received
    transaction_posted.disconnect(receiver)
