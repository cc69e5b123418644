"""Accounts' receivers: every login of a player is recorded (`services.record_login`); every
staff sign-in, failed sign-in and sign-out too (`services.record_staff_login`)."""

from __future__ import annotations

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.accounts import selectors, services
from apps.accounts.choices import StaffLoginOutcome
from apps.accounts.errors import LoginLocked, NotAPlayer

# Set on the request by the back office's sign-in form (`forms.StaffLoginForm`) before it checks the
# password: a failure is a staff sign-in's only when it came through that form (a player's wrong
# password on the site is not).
STAFF_LOGIN_ATTEMPT = "pam_staff_login_attempt"
# Set on the request by whoever logs a staff member out for a reason (`StaffIdleMiddleware`): the
# outcome recorded instead of a plain sign-out.
STAFF_LOGOUT_OUTCOME = "pam_staff_logout_outcome"


@receiver(user_logged_in, dispatch_uid="accounts.record_login")
def record_login(sender, request, user, **kwargs) -> None:
    """The site's login form, registration and the API's token login all send `user_logged_in`
    (Django's `login()`, or `log_in_player`); a staff member's login is not a player's."""
    try:
        player = selectors.get_player_for_user(user)
    except NotAPlayer:
        return
    services.record_login(player=player, request=request)


@receiver(user_logged_in, dispatch_uid="accounts.record_staff_login")
def record_staff_login(sender, request, user, **kwargs) -> None:
    """A staff member signed in (by whatever form): recorded, and their session's activity stamp
    starts now (`StaffIdleMiddleware`)."""
    if not user.is_staff:
        return
    services.record_staff_login(request=request, outcome=StaffLoginOutcome.SUCCESS, username=user.get_username(),
                                user=user)  # fmt: skip
    if request is not None and hasattr(request, "session"):
        request.session[selectors.STAFF_SEEN_AT_SESSION_KEY] = int(time.time())


@receiver(user_login_failed, dispatch_uid="accounts.record_staff_login_failure")
def record_staff_login_failure(sender, credentials, request=None, **kwargs) -> None:
    """A back-office sign-in refused by `authenticate()`: the throttle refused it unchecked
    (`request.login_refusal`), or the username or password was wrong."""
    if request is None or not getattr(request, STAFF_LOGIN_ATTEMPT, False):
        return
    refusal = getattr(request, "login_refusal", None)
    if refusal is None:
        outcome = StaffLoginOutcome.BAD_PASSWORD
    elif isinstance(refusal, LoginLocked):
        outcome = StaffLoginOutcome.LOCKED_OUT
    else:
        outcome = StaffLoginOutcome.THROTTLE_UNAVAILABLE
    username = str(credentials.get("username", ""))
    services.record_staff_login(request=request, outcome=outcome, username=username,
                                user=selectors.find_user(username))  # fmt: skip


@receiver(user_logged_out, dispatch_uid="accounts.record_staff_logout")
def record_staff_logout(sender, request, user, **kwargs) -> None:
    if user is None or not user.is_staff:
        return
    outcome = getattr(request, STAFF_LOGOUT_OUTCOME, StaffLoginOutcome.LOGOUT)
    services.record_staff_login(request=request, outcome=outcome, username=user.get_username(), user=user)
