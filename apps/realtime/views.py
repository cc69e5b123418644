"""The player site's wallet pages: the live wallet (`/`) and the history (`/history/`).

Thin: the state is read through the wallet's selectors and rendered once; from then on the wallet
page changes only through the real-time frames (contracts/realtime.md), never by reloading. The
header's balance on every page is the context processor's (context_processors.py).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts import selectors as accounts
from apps.common.money import format_minor
from apps.realtime.context_processors import wallet_state_for
from apps.wallet import selectors as wallet
from apps.wallet.choices import TransactionKind

RECENT_TRANSACTIONS = 10  # rows on the page; the client keeps at most as many
HISTORY_PAGE_SIZE = 25
# What the player reads for each kind (a kind the page does not know is shown by its code).
KIND_LABELS = {kind.value: str(kind.label) for kind in TransactionKind}


@login_required(login_url="site-login")
def player_page(request: HttpRequest) -> HttpResponse:
    """The balance (cash, bonus) and the last transactions, rendered at the wallet's current
    version, the same the header hands the client, which resumes from it."""
    player = accounts.get_player_for_request(request)
    if player is None:
        return render(request, "site/not_a_player.html")
    state = wallet_state_for(request)
    exponent = player.currency.exponent
    since = max(0, state.version - RECENT_TRANSACTIONS)
    events = wallet.list_events_since(player.pk, since, RECENT_TRANSACTIONS)
    transactions = [
        {
            "version": event["version"],
            "kind": KIND_LABELS.get(event["kind"], event["kind"]),
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
        "client": {"keep": RECENT_TRANSACTIONS, "kinds": KIND_LABELS},
    }
    return render(request, "site/player.html", context)


def _display_time(iso: str) -> str:
    """`2026-11-23T14:25:33.730969Z` as `2026-11-23 14:25:33`, as player.js writes it too."""
    return iso[:19].replace("T", " ")


class HistoryFilterForm(forms.Form):
    """The history's filters, from the query string; an invalid value is ignored, not an error."""

    kind = forms.MultipleChoiceField(
        choices=TransactionKind.choices, required=False, label="Kinds", widget=forms.CheckboxSelectMultiple
    )
    since = forms.DateField(required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To (UTC, inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


def _day_start(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) if day else None


@login_required(login_url="site-login")
def history_page(request: HttpRequest) -> HttpResponse:
    """The player's own transactions, newest first, filtered by kind and date range (UTC days,
    both ends included), with the balance after each; paginated."""
    player = accounts.get_player_for_request(request)
    if player is None:
        return render(request, "site/not_a_player.html")
    form = HistoryFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    until = filters.get("until")
    page = wallet.list_transactions_page(
        player.pk,
        page=filters.get("page") or 1,
        page_size=HISTORY_PAGE_SIZE,
        kinds=filters.get("kind") or (),
        since=_day_start(filters.get("since")),
        until=_day_start(until + dt.timedelta(days=1)) if until else None,
    )
    exponent = player.currency.exponent
    rows = [
        {
            "version": row.version,
            "kind": KIND_LABELS.get(row.kind, row.kind),
            "amount": format_minor(row.amount, exponent),
            "balance_after": format_minor(row.balance_after, exponent),
            "currency": row.currency,
            "game_id": row.game_id,
            "created_at": row.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
        for row in page.rows
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "site/history.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )
