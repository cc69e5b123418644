"""The player site's bonuses page (`/bonuses/`): the player's bonuses with their wagering
progress, the opt-in campaigns open to them with their terms, and the opt-in form.

Thin, like the player API's views (api/views.py): the form calls `services.opt_in`, the page is
rendered from the selectors. A refusal is shown on the page with its message; nothing changed then.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from apps.accounts import selectors as accounts
from apps.bonuses import selectors, services
from apps.bonuses.choices import DEPOSIT_TRIGGERS, BonusStatus, CampaignKind, Trigger
from apps.bonuses.models import Campaign
from apps.common.errors import PamError
from apps.common.money import format_minor

TEMPLATE = "bonuses/bonuses.html"


class OptInForm(forms.Form):
    code = forms.RegexField(
        regex=r"^[-A-Za-z0-9_]{1,40}$",
        max_length=40,
        label="Bonus code",
        error_messages={"invalid": "A bonus code has letters, digits, - and _ only."},
    )


@login_required(login_url="site-login")
@require_http_methods(["GET", "POST"])
def bonuses_page(request: HttpRequest) -> HttpResponse:
    """GET: the page (`?cursor=` an older page of bonuses). POST `code`: opt in, then the page
    again with what happened or why it was refused (400)."""
    player = accounts.get_player_for_request(request)
    if player is None:
        return render(request, "site/not_a_player.html")
    form = OptInForm(request.POST or None)
    message = refusal = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                joined, created = services.opt_in(player, form.cleaned_data["code"])
            except PamError as refused:
                refusal, status = refused.message, 400
            else:
                message = _joined_text(joined.campaign, created, player.currency.exponent)
                form = OptInForm()
        else:
            refusal, status = form.errors["code"][0], 400
    cursor = request.GET.get("cursor", "")
    rows, next_cursor = selectors.list_bonuses(player, int(cursor) if _is_cursor(cursor) else None)
    exponent = player.currency.exponent
    context = {
        "player": player,
        "form": form,
        "message": message,
        "refusal": refusal,
        "bonuses": [_bonus_row(bonus, exponent) for bonus in rows],
        "next_cursor": next_cursor,
        "older": bool(cursor),
        "offers": [
            {"campaign": campaign, "terms": terms_summary(campaign, player.currency_id, exponent)}
            for campaign in selectors.list_eligible_campaigns(player, to_join=True)
            if campaign.requires_opt_in
        ],
    }
    return render(request, TEMPLATE, context, status=status)


def _is_cursor(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < len(text) <= 18 and not text.startswith("0")


def _joined_text(campaign: Campaign, created: bool, exponent: int) -> str:
    done = "You have joined" if created else "You had already joined"
    if campaign.trigger in DEPOSIT_TRIGGERS:
        minimum = f" of at least {format_minor(campaign.min_deposit, exponent)}" if campaign.min_deposit else ""
        when = "your first deposit" if campaign.trigger == Trigger.FIRST_DEPOSIT else "your next deposit"
        return f"{done} {campaign.name}. The bonus comes with {when}{minimum}."
    return f"{done} {campaign.name}. The bonus comes when you qualify."


def _bonus_row(bonus, exponent: int) -> dict:
    required, done = bonus.wagering_required, min(bonus.wagering_done, bonus.wagering_required)
    return {
        "bonus": bonus,
        "status_label": BonusStatus(bonus.status).label,
        "amount": format_minor(bonus.amount, exponent),
        "remaining": format_minor(bonus.remaining, exponent),
        "wagering_done": format_minor(bonus.wagering_done, exponent),
        "wagering_required": format_minor(required, exponent),
        "progress_max": required or 1,
        "progress_value": done if required else 1,
        "percent": 100 * done // required if required else 100,
    }


def terms_summary(campaign: Campaign, currency: str, exponent: int) -> str:
    """The campaign's terms in one sentence, as the player reads them before joining: money in
    their wallet's `currency` (the campaign's, or any for a campaign of every currency)."""
    money = lambda amount: format_minor(amount, exponent)  # noqa: E731
    if campaign.kind == CampaignKind.DEPOSIT_MATCH:
        cap = f" up to {money(campaign.cap)} {currency}" if campaign.cap else ""
        offer = f"{campaign.match_percent} % of your deposit{cap}"
    elif campaign.kind == CampaignKind.FREE_BET:
        offer = f"a free bet of {money(campaign.amount)} {currency}"
    elif campaign.kind == CampaignKind.FIXED:
        offer = f"{money(campaign.amount)} {currency}"
    else:
        offer = f"{campaign.cashback_percent} % of your net losses over {campaign.cashback_period_days} days"
    parts = [offer]
    if campaign.min_deposit:
        parts.append(f"minimum deposit {money(campaign.min_deposit)} {currency}")
    if campaign.wagering_multiple:
        base = "bonus and deposit" if campaign.wagering_base == "bonus_and_deposit" else "bonus"
        parts.append(f"wager {campaign.wagering_multiple} times the {base}")
    if campaign.max_stake:
        parts.append(f"stakes of at most {money(campaign.max_stake)} {currency} while wagering")
    if campaign.expires_after_days:
        parts.append(f"expires after {campaign.expires_after_days} days")
    if campaign.forfeit_on_withdrawal:
        parts.append("a withdrawal before the wagering is done forfeits it")
    return "; ".join(parts) + "."
