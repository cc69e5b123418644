"""The player site's sportsbook page (`/sportsbook/`): events with their markets and live prices,
the bet slip and the player's bets (docs/sportsbook.md, "Site").

A shell, like the cashier's: static/js/sportsbook.js reads the events from the player API, keeps
their prices live from the odds socket (`/ws/odds/`), places bets and lists them through the
player API, so what the player sees, refusals included, is the API's own. The page adds what the
API's bets do not carry: the names of the events, markets and selections of the player's latest
bets (an event that has ended is no longer in the events list the script reads).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.accounts import selectors as accounts
from apps.sportsbook import selectors
from apps.sportsbook.choices import PriceChanges
from apps.sportsbook.odds import FORMATS


@login_required(login_url="site-login")
@require_GET
def sportsbook_page(request: HttpRequest) -> HttpResponse:
    player = accounts.get_player_for_request(request)
    if player is None:
        return render(request, "site/not_a_player.html")
    bets, _ = selectors.list_player_bets(player)
    config = {
        "currency": player.currency_id,
        "exponent": player.currency.exponent,
        "odds_formats": list(FORMATS),
        "price_changes": list(PriceChanges.values),
        "names": leg_names(bets),
    }
    return render(request, "sportsbook/sportsbook.html", {"player": player, "sportsbook": config})


def leg_names(bets) -> dict[str, dict[str, str]]:
    """{selection_id: {"event", "market", "selection"}} for every leg of `bets` (their legs
    prefetched with their selections, markets and events: no query)."""
    legs = [leg for bet in bets for leg in bet.legs.all()]
    return {leg.selection.selection_id: {"event": leg.event.name, "market": leg.market.name,
                                         "selection": leg.selection.name} for leg in legs}  # fmt: skip
