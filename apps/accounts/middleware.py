"""The login throttle's answer on every login page: 429 with `Retry-After`; staff sessions'
inactivity limit."""

import functools
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.urls import get_script_prefix, get_urlconf, reverse

from apps.accounts import selectors
from apps.accounts.choices import StaffLoginOutcome
from apps.accounts.receivers import STAFF_LOGOUT_OUTCOME
from apps.common.middleware import AroundMiddleware


class LoginThrottleMiddleware(AroundMiddleware):
    """A request whose login the throttle refused (`request.login_refusal`, set by
    ThrottledModelBackend) is answered 429 with `Retry-After`, whatever page the view rendered:
    the player API's error, the site's login form or the admin's, each saying when to try again.
    One place, so that no login view can forget it."""

    def after(self, request, response, state):
        return _answer_refusal(request, response)


def _answer_refusal(request, response):
    refusal = getattr(request, "login_refusal", None)
    if refusal is not None:
        response.status_code = refusal.status
        response["Retry-After"] = str(refusal.retry_after)
    return response


class StaffIdleMiddleware:
    """Staff sessions end after STAFF_SESSION_IDLE_SECONDS without a back-office request.

    On every request under the back office (`/backoffice/`) of a signed-in staff member: a session
    whose last activity stamp (`selectors.STAFF_SEEN_AT_SESSION_KEY`, set at sign-in) is older
    than the limit is logged out (an `idle_logout` StaffLogin) and the request goes on as
    anonymous, so the back office asks for a sign-in again; otherwise the stamp moves to now, at
    most once a minute, so that a page's burst of requests writes the session once. Players'
    sessions, and staff requests outside the back office, are left alone. The back office's socket
    refuses an idle session at connect (`selectors.staff_socket_refusal`).

    The check reads the session and the user, so under ASGI it runs in a thread; requests outside
    the back office pass straight through."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if _in_backoffice(request):
            _end_idle_staff_session(request)
        return self.get_response(request)

    async def __acall__(self, request):
        if _in_backoffice(request):
            await sync_to_async(_end_idle_staff_session)(request)
        return await self.get_response(request)


def _in_backoffice(request) -> bool:
    # The session first: the signed APIs have none, and skip the look-up. The whole path, against
    # the reversed index: both carry the script prefix when PAM is served under a path.
    if not hasattr(request, "session"):
        return False
    return request.path.startswith(_admin_index(get_urlconf(), get_script_prefix()))


@functools.lru_cache(maxsize=8)
def _admin_index(urlconf: str | None, script_prefix: str) -> str:
    # What `reverse` answers for this URL configuration and script prefix, its two inputs: reversed
    # on every request of a session, it cost a player API call about 150 Python calls.
    return reverse("admin:index", urlconf=urlconf)


def _end_idle_staff_session(request) -> None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return
    now = time.time()
    if selectors.staff_session_idle(request.session, now):
        setattr(request, STAFF_LOGOUT_OUTCOME, StaffLoginOutcome.IDLE_LOGOUT)
        logout(request)  # records the idle_logout (receivers.record_staff_logout)
        minutes = settings.STAFF_SESSION_IDLE_SECONDS // 60
        messages.info(
            request, f"You were signed out after {minutes} minutes without activity; sign in again.", fail_silently=True
        )
        return
    seen_at = request.session.get(selectors.STAFF_SEEN_AT_SESSION_KEY)
    if seen_at is None or now - seen_at >= selectors.STAFF_ACTIVITY_STAMP_SECONDS:
        request.session[selectors.STAFF_SEEN_AT_SESSION_KEY] = int(now)
