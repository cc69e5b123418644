"""The player site's cashier page (`/cashier/`).

A shell: static/js/cashier.js talks to the player API's cashier (contracts/payments.md) with the
session and its CSRF token, so the answers and refusals the player sees are the API's own. The
page lists the enabled payment providers to choose from.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts import selectors as accounts
from apps.payments import selectors


@login_required(login_url="site-login")
def cashier_page(request: HttpRequest) -> HttpResponse:
    """Deposit and withdrawal forms, pending withdrawals with Cancel, recent deposits.
    `?deposit=<id>`: the player is back from the PSP's hosted page."""
    player = accounts.get_player_for_request(request)
    if player is None:
        return render(request, "site/not_a_player.html")
    returned = request.GET.get("deposit", "")
    config = {
        "currency": player.currency_id,
        "exponent": player.currency.exponent,
        "returned_deposit": returned if returned.isascii() and len(returned) <= 100 else "",
    }
    providers = selectors.list_enabled_providers()
    return render(request, "site/cashier.html", {"player": player, "cashier": config, "providers": providers})
