"""Payment provider adapters by name (`PaymentProvider.adapter`)."""

from __future__ import annotations

from apps.payments.adapters.base import PaymentAdapter
from apps.payments.adapters.sandbox import SandboxAdapter
from apps.payments.choices import AdapterName

ADAPTERS: dict[str, type[PaymentAdapter]] = {AdapterName.SANDBOX: SandboxAdapter}


def adapter_for(provider) -> PaymentAdapter:
    """The adapter of `provider` (a PaymentProvider)."""
    return ADAPTERS[provider.adapter](provider)
