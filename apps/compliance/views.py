"""The site's responsible-gambling page (`/responsible-gambling/`): the player's limits with
their pending changes, the confirmation of a pending increase, the reality-check interval, a
time-out and a self-exclusion (with a confirmation step that says what it means).

Thin, like the player API's views beside it (api/views.py): parse the form, call one of
compliance's services, render the state from its selectors. A refusal is shown on the page with
its message; nothing is changed then.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.accounts import selectors as accounts
from apps.common.errors import PamError
from apps.common.money import format_minor, parse_minor
from apps.compliance import selectors, services
from apps.compliance.choices import LimitKind, LimitPeriod, SelfExclusionPeriod
from apps.compliance.services import REALITY_CHECK_MINUTES, TIME_OUT_HOURS

TEMPLATE = "compliance/responsible_gambling.html"
SELF_EXCLUSION_TEMPLATE = "compliance/self_exclusion_confirm.html"
EXCLUDED_TEMPLATE = "compliance/excluded.html"


class FormRefusal(Exception):
    """A form value the service could not even be called with (not a number, say)."""


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise FormRefusal(f"Enter a whole number of {what}.") from None


def _limit_amount(player, kind: str, text: str) -> int | None:
    """Empty removes the limit; money in the currency's major units, a session limit in minutes."""
    if not text.strip():
        return None
    if kind == LimitKind.SESSION:
        return _int(text, "minutes")
    try:
        return parse_minor(text, player.currency.exponent)
    except ValueError:
        raise FormRefusal("Enter an amount such as 50 or 50.00 (empty removes the limit).") from None


def _set_limit(request, player) -> str:
    kind = request.POST.get("kind", "")
    period = None if kind == LimitKind.SESSION else request.POST.get("period", "")
    amount = _limit_amount(player, kind, request.POST.get("amount", ""))
    limit = services.set_limit(player=player, kind=kind, period=period, amount=amount)
    if limit.has_pending:
        return "Your change is pending: it applies when the cooling-off period ends (see below)."
    return "Your limit is set and applies now." if amount is not None else "The limit is removed."


def _confirm(request, player) -> str:
    services.confirm_limit(player=player, kind=request.POST.get("kind", ""), period=request.POST.get("period") or None)
    return "Your change is confirmed and applies now."


def _reality_check(request, player) -> str:
    minutes = _int(request.POST.get("interval_minutes", ""), "minutes")
    services.set_reality_check_interval(player=player, minutes=minutes)
    return f"You will be reminded every {minutes} minutes of play."


ACTIONS = {"set_limit": _set_limit, "confirm": _confirm, "reality_check": _reality_check}


@login_required(login_url="site-login")
@require_http_methods(["GET", "POST"])
def responsible_gambling(request: HttpRequest) -> HttpResponse:
    """GET: the page. POST `action`: `set_limit`, `confirm`, `reality_check` (then the page again,
    with what was done or why it was refused), `time_out` and `self_exclusion` (a confirmation
    page first; the exclusion starts only when the form of that page is posted with
    `confirmed=yes`, and then the player is logged out everywhere)."""
    player = accounts.get_player_for_request(request)
    if player is None:
        return render(request, "site/not_a_player.html")
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action in ("time_out", "self_exclusion"):
        return _exclusion(request, player, action)
    message = refusal = ""
    status = 200
    if action:
        handler = ACTIONS.get(action)
        try:
            if handler is None:
                raise FormRefusal("Unknown action.")
            message = handler(request, player)
        except (PamError, FormRefusal) as refused:
            refusal, status = str(refused), 400
    return render(request, TEMPLATE, {**_state(player), "message": message, "refusal": refusal}, status=status)


def _exclusion(request: HttpRequest, player, action: str) -> HttpResponse:
    """A time-out or self-exclusion: shown for confirmation first, started only when confirmed."""
    choice = request.POST.get("hours" if action == "time_out" else "period", "")
    context = {"action": action, "choice": choice, "periods": SelfExclusionPeriod.choices}
    if action == "self_exclusion":
        context["choice_label"] = dict(SelfExclusionPeriod.choices).get(choice, choice)
    if request.POST.get("confirmed") != "yes":
        return render(request, SELF_EXCLUSION_TEMPLATE, context)
    try:
        if action == "time_out":
            exclusion = services.start_time_out(player=player, hours=_int(choice, "hours"))
        else:
            exclusion = services.self_exclude(player=player, period=choice)
    except (PamError, FormRefusal) as refused:
        return render(request, TEMPLATE, {**_state(player), "message": "", "refusal": str(refused)}, status=400)
    # The exclusion's receiver ended every session of the player in the store; this request's
    # user goes too, so the page below shows no wallet and the browser is logged out.
    logout(request)
    return render(request, EXCLUDED_TEMPLATE, {"exclusion": exclusion})


def _state(player) -> dict:
    exponent = player.currency.exponent
    limits = []
    for limit in selectors.list_limits(player):
        money = limit.kind != LimitKind.SESSION
        show = (lambda amount: format_minor(amount, exponent)) if money else (lambda amount: f"{amount} min")
        pending = limit.pending
        limits.append(
            {
                "kind": limit.kind,
                "kind_label": LimitKind(limit.kind).label,
                "period": limit.period or "",
                "period_label": LimitPeriod(limit.period).label if limit.period else "per session",
                "amount": show(limit.amount),
                "used": show(limit.used),
                "pending": pending,
                "pending_amount": "no limit"
                if pending and pending.amount is None
                else (pending and show(pending.amount)),
                "confirmable": bool(pending and pending.needs_confirmation and pending.effective_at <= timezone.now()),
            }
        )
    exclusion = selectors.get_current_exclusion(player)
    return {
        "player": player,
        "limits": limits,
        "kinds": LimitKind.choices,
        "periods": LimitPeriod.choices,
        "reality_check": selectors.get_reality_check(player),
        "reality_check_range": REALITY_CHECK_MINUTES,
        "time_out_range": TIME_OUT_HOURS,
        "time_out_days": [1, 2, 7, 14, 30, 42],
        "self_exclusion_periods": SelfExclusionPeriod.choices,
        "exclusion": exclusion if exclusion is not None and exclusion.blocks_at(timezone.now()) else None,
    }
