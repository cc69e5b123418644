"""How many accounts one address may register: `REGISTRATION_RATE` (DRF's rate syntax, default
30/hour), one budget per client address, shared by the player API's `POST auth/register` and the
site's `/register/`, so a bot gains nothing by switching from one to the other. The address is
the login throttle's (`throttling.client_address`: the peer, or X-Forwarded-For behind
TRUSTED_PROXIES), and the history is kept in the cache (Redis when served)."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from apps.accounts.throttling import client_address

# Every cache key of this throttle starts with this (the cache adds its own KEY_PREFIX).
KEY_NAMESPACE = "registration-throttle"


class RegistrationThrottle(SimpleRateThrottle):
    scope = "registration"

    def get_cache_key(self, request, view) -> str:
        return f"{KEY_NAMESPACE}:{client_address(request)}"
