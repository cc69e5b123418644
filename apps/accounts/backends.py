"""The authentication backend: Django's ModelBackend behind the login throttle."""

import structlog
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from redis.exceptions import RedisError

from apps.accounts import throttling
from apps.accounts.errors import LoginLocked, LoginUnavailable

logger = structlog.get_logger(__name__)

# What a login refused because the throttle's store is away is told to wait, in seconds.
UNAVAILABLE_RETRY_AFTER = 5


class ThrottledModelBackend(ModelBackend):
    """Every `authenticate()` with a request (the player API, the site's and the admin's login
    forms) goes through `throttling.login_attempt`. A refusal is put on the request as
    `request.login_refusal` (what the forms, the API and LoginThrottleMiddleware answer with) and
    raised as PermissionDenied, which makes `authenticate()` return None without trying another
    backend. Without a request (a management command, the test client's `login()`) there is no
    address to throttle by, and nothing is throttled. A throttle whose store (Redis) does not
    answer refuses the same way with LoginUnavailable (503): never a login let through unthrottled,
    never a 500."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or username is None or password is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        try:
            with throttling.login_attempt(request, username) as attempt:
                user = super().authenticate(request, username=username, password=password, **kwargs)
                if user is None:
                    attempt.failed()
                else:
                    attempt.succeeded()
                return user
        except LoginLocked as refusal:
            request.login_refusal = refusal
            raise PermissionDenied from refusal
        except RedisError as exc:
            logger.warning("login.throttle_unavailable", error=repr(exc))
            request.login_refusal = LoginUnavailable(retry_after=UNAVAILABLE_RETRY_AFTER)
            raise PermissionDenied from exc
