"""The authentication backend: Django's ModelBackend behind the login throttle."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from apps.accounts import throttling
from apps.accounts.errors import LoginLocked


class ThrottledModelBackend(ModelBackend):
    """Every `authenticate()` with a request (the player API, the site's and the admin's login
    forms) goes through `throttling.login_attempt`. A refusal is put on the request as
    `request.login_refusal` (what the forms, the API and LoginThrottleMiddleware answer with) and
    raised as PermissionDenied, which makes `authenticate()` return None without trying another
    backend. Without a request (a management command, the test client's `login()`) there is no
    address to throttle by, and nothing is throttled."""

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
