import pytest
from rest_framework.test import APIClient

from apps.accounts.services import issue_token
from apps.wallet.tests.factories import funded_player


@pytest.fixture
def player():
    """A player with 10,000 minor units of cash."""
    return funded_player(10_000)


@pytest.fixture
def api(player):
    """The player's API client, signed in with a Bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(player.user)}")
    return client
