"""The site's header on every page: the player's live balance, rendered at a wallet version that
the page's script (static/js/site.js on pam-realtime.js) resumes from, so a movement committed
between the render and the socket's `hello` still reaches the header."""

from __future__ import annotations

from functools import cached_property

from django.http import HttpRequest

from apps.accounts import selectors as accounts
from apps.common.money import format_minor
from apps.wallet import selectors as wallet
from apps.wallet.selectors import WalletState


def wallet_state_for(request: HttpRequest) -> WalletState | None:
    """The logged-in player's wallet state, read once per request (the header and the page show
    the same version); None for an anonymous visitor or a staff user."""
    player = accounts.get_player_for_request(request)
    if player is None:
        return None
    cached = getattr(request, "_pam_wallet_state", None)
    if cached is None or cached.player_id != str(player.pk):
        cached = request._pam_wallet_state = wallet.get_wallet_state(player.pk)
    return cached


class SiteWallet:
    """Read only when a template asks (the admin's pages never do, so they cost no query)."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @cached_property
    def state(self) -> dict | None:
        state = wallet_state_for(self._request)
        if state is None:
            return None
        exponent = accounts.get_player_for_request(self._request).currency.exponent
        return {
            "balance": format_minor(state.balance, exponent),
            "currency": state.currency,
            # What site.js starts from (json_script): no secret, only the player's own wallet.
            "client": {"version": state.version, "exponent": exponent},
        }


def site_wallet(request: HttpRequest) -> dict:
    return {"site_wallet": SiteWallet(request)}
