"""The player's page of the site: the live wallet, kept current by static/js/pam-realtime.js.

Thin: the state is read through the wallet's selectors and rendered once; from then on the page
changes only through the real-time frames (contracts/realtime.md), never by reloading.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts import selectors as accounts
from apps.accounts.errors import NotAPlayer
from apps.common.money import format_minor
from apps.wallet import selectors as wallet

RECENT_TRANSACTIONS = 10  # rows on the page; the client keeps at most as many


@login_required(login_url="site-login")
def player_page(request: HttpRequest) -> HttpResponse:
    """The balance (cash, bonus) and the last transactions, rendered at the wallet's current
    version; the page hands that version to the client, which resumes from it, so a movement
    committed between this render and the socket's `hello` still appears."""
    try:
        player = accounts.get_player_for_user(request.user)
    except NotAPlayer:
        return render(request, "site/not_a_player.html")
    state = wallet.get_wallet_state(player.pk)
    exponent = player.currency.exponent
    since = max(0, state.version - RECENT_TRANSACTIONS)
    events = wallet.list_events_since(player.pk, since, RECENT_TRANSACTIONS)
    transactions = [
        {
            "version": event["version"],
            "kind": event["kind"],
            "amount": format_minor(event["amount"], exponent),
            "balance": format_minor(event["balance"], exponent),
            "created_at": _display_time(event["created_at"]),
        }
        for event in reversed(events)  # newest first
    ]
    context = {
        "player": player,
        "balance": format_minor(state.balance, exponent),
        "cash": format_minor(state.cash, exponent),
        "bonus": format_minor(state.bonus, exponent),
        "currency": state.currency,
        "transactions": transactions,
        "client": {"version": state.version, "exponent": exponent, "keep": RECENT_TRANSACTIONS},
    }
    return render(request, "site/player.html", context)


def _display_time(iso: str) -> str:
    """`2026-11-23T14:25:33.730969Z` as `2026-11-23 14:25:33`, as player.js writes it too."""
    return iso[:19].replace("T", " ")
