"""What makes a campaign: which fields each kind and each trigger needs, and which they refuse.

One function, `validate`, used by every save (services.save_campaign), so the back office, the
demo data and later the grants all agree on what a valid campaign is. A field that a kind or
trigger does not use must be empty: a value there would read as if it meant something.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from apps.bonuses import errors
from apps.bonuses.choices import DEPOSIT_TRIGGERS, CampaignKind, Trigger, WageringBase
from apps.bonuses.models import Campaign, GameWeight

_CODE = re.compile(r"^[-A-Za-z0-9_]{1,40}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

# The amount fields each kind needs; every other kind leaves them empty.
_KIND_FIELDS = {
    CampaignKind.DEPOSIT_MATCH: ("match_percent", "cap"),
    CampaignKind.FIXED: ("amount",),
    CampaignKind.FREE_BET: ("amount",),
    CampaignKind.CASHBACK: ("cashback_percent", "cashback_period_days"),
}
_TRIGGER_FIELDS = {
    Trigger.FIRST_DEPOSIT: ("min_deposit",),
    Trigger.ANY_DEPOSIT: ("min_deposit",),
    Trigger.WAGERING_THRESHOLD: ("wagering_threshold", "wagering_period_days"),
}
_POSITIVE = ("match_percent", "cap", "amount", "cashback_percent", "cashback_period_days", "min_deposit",
             "wagering_threshold", "wagering_period_days", "max_stake", "expires_after_days")  # fmt: skip


def validate(campaign: Campaign, weights: Iterable[GameWeight] = ()) -> None:
    """Raise InvalidCampaign (`error.fields`: what is wrong with each field) unless `campaign`
    and its game `weights` make a campaign. Reads nothing from the database."""
    problems: dict[str, str] = {}
    if not _CODE.match(campaign.code or ""):
        problems["code"] = "1 to 40 letters, digits, hyphens or underscores."
    if not (campaign.name or "").strip():
        problems["name"] = "A campaign has a name."
    if campaign.kind not in CampaignKind.values:
        problems["kind"] = f"One of {', '.join(CampaignKind.values)}."
    if campaign.trigger not in Trigger.values:
        problems["trigger"] = f"One of {', '.join(Trigger.values)}."
    if campaign.wagering_base not in WageringBase.values:
        problems["wagering_base"] = f"One of {', '.join(WageringBase.values)}."
    countries = campaign.countries
    if not isinstance(countries, list) or not all(isinstance(c, str) and _COUNTRY.match(c) for c in countries):
        problems["countries"] = "A list of ISO 3166-1 alpha-2 codes (upper case); empty: every country."
    elif len(set(countries)) != len(countries):
        problems["countries"] = "Each country once."

    for name in _POSITIVE:
        value = getattr(campaign, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
            problems[name] = "A positive whole number."
    needed = {*_KIND_FIELDS.get(campaign.kind, ()), *_TRIGGER_FIELDS.get(campaign.trigger, ())}
    for name in {field for fields in (*_KIND_FIELDS.values(), *_TRIGGER_FIELDS.values()) for field in fields}:
        value = getattr(campaign, name)
        if name in needed and value is None:
            problems.setdefault(name, f"Needed by a {campaign.kind} campaign triggered by {campaign.trigger}.")
        elif name not in needed and value is not None:
            problems.setdefault(
                name, f"Not used by a {campaign.kind} campaign triggered by {campaign.trigger}: leave empty."
            )
    if campaign.cashback_percent is not None and campaign.cashback_percent > 100:
        problems["cashback_percent"] = "At most 100."
    # A deposit match matches a deposit, so only a deposit can set it off; so does a wagering
    # base that counts the deposit.
    if campaign.kind == CampaignKind.DEPOSIT_MATCH and campaign.trigger not in DEPOSIT_TRIGGERS:
        problems.setdefault("trigger", "A deposit match is triggered by a deposit (first or any).")
    # A cash-back pays each of its periods at the period's end; nothing else pays one.
    if (campaign.kind == CampaignKind.CASHBACK) != (campaign.trigger == Trigger.PERIOD_END):
        problems.setdefault("trigger", "A cash-back campaign, and only one, is paid at the end of each period.")
    # Its periods run from its start (without one, the first period paid could be one that ended
    # before the campaign existed).
    if campaign.kind == CampaignKind.CASHBACK and campaign.starts_at is None:
        problems["starts_at"] = "A cash-back's periods run from its start: it needs one."
    # No one can opt in before they register: an opt-in registration campaign would grant nobody.
    if campaign.trigger == Trigger.REGISTRATION and campaign.requires_opt_in:
        problems["requires_opt_in"] = "A registration campaign takes no opt-in: no one can opt in before registering."
    if campaign.wagering_base == WageringBase.BONUS_AND_DEPOSIT and campaign.trigger not in DEPOSIT_TRIGGERS:
        problems.setdefault("wagering_base", "Bonus and deposit needs a deposit trigger.")
    if campaign.budget is not None and (not isinstance(campaign.budget, int) or campaign.budget < 0):
        problems["budget"] = "Zero or more, in minor units; empty: no budget."
    # Without a currency the amounts are each player's wallet currency's: a budget summed across
    # currencies, or one cash-back run over every currency's losses, would add unlike amounts.
    if campaign.currency_id is None and campaign.budget is not None:
        problems["currency"] = "A campaign with a budget is in one currency."
    if campaign.currency_id is None and campaign.kind == CampaignKind.CASHBACK:
        problems["currency"] = "A cash-back campaign is in one currency."
    if not isinstance(campaign.wagering_multiple, int) or campaign.wagering_multiple < 0:
        problems["wagering_multiple"] = "Zero (no wagering) or more."
    if not isinstance(campaign.default_weight_percent, int) or not 0 <= campaign.default_weight_percent <= 100:
        problems["default_weight_percent"] = "0 to 100."
    if campaign.starts_at and campaign.ends_at and campaign.ends_at <= campaign.starts_at:
        problems["ends_at"] = "After the start."

    seen: set[tuple[str, str]] = set()
    for weight in weights:
        key = ("game_type", weight.game_type) if weight.game_type else ("game_code", weight.game_code)
        if bool(weight.game_type) == bool(weight.game_code):
            problems["weights"] = "Each weight names a game type or a game code, not both."
        elif not isinstance(weight.percent, int) or not 0 <= weight.percent <= 100:
            problems["weights"] = "Each weight is 0 to 100 %."
        elif key in seen:
            problems["weights"] = f"{key[1]} is weighted twice."
        seen.add(key)

    if problems:
        raise errors.InvalidCampaign(
            "This campaign is not valid: " + "; ".join(f"{k}: {v}" for k, v in sorted(problems.items())),
            details={"fields": problems},
        )
