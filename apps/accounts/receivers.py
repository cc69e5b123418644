"""Accounts' receivers: every login of a player is recorded (`services.record_login`)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from apps.accounts import selectors, services
from apps.accounts.errors import NotAPlayer


@receiver(user_logged_in, dispatch_uid="accounts.record_login")
def record_login(sender, request, user, **kwargs) -> None:
    """The site's login form, registration and the API's token login all send `user_logged_in`
    (Django's `login()`, or `log_in_player`); a staff member's login is not a player's."""
    try:
        player = selectors.get_player_for_user(user)
    except NotAPlayer:
        return
    services.record_login(player=player, request=request)
