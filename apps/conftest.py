import pytest
from rest_framework.test import APIClient

from apps.wallet.services import forget_system_accounts


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _fresh_system_account_ids():
    """System account ids are remembered per process; each test's database starts without them."""
    forget_system_accounts()
    yield
    forget_system_accounts()
