"""Registration with the deposit limits the brand's jurisdiction offers at sign-up, shared by the
player API (`auth/register`) and the site's `/register/` page: one validation, one transaction.

Accounts' services never call compliance (compliance refreshes its checks on accounts' events
instead); registration is the one flow that sets a compliance limit with the account, so this
module, which only the two registration views import, may call compliance's services and
selectors (docs/architecture.md, "Which app may call which").
"""

from __future__ import annotations

from django.db import transaction
from rest_framework import serializers

from apps.accounts import selectors, services
from apps.accounts.models import Player
from apps.common.fields import StrictIntegerField
from apps.common.money import MAX_AMOUNT
from apps.common.schema import CurrencyCodeField
from apps.compliance import selectors as compliance
from apps.compliance import services as compliance_services
from apps.compliance.choices import LimitKind, LimitPeriod


class DepositLimitSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=LimitPeriod.values)
    amount = StrictIntegerField(min_value=0, max_value=MAX_AMOUNT,
                                help_text="minor units of the player's currency")  # fmt: skip


class RegistrationSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[A-Za-z0-9_.-]{3,150}$")
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    date_of_birth = serializers.DateField()
    country = serializers.RegexField(r"^[A-Z]{2}$", help_text="ISO 3166-1 alpha-2, upper case")
    currency = CurrencyCodeField()
    brand = serializers.SlugField(max_length=32, help_text="the brand's code")
    deposit_limits = DepositLimitSerializer(many=True, required=False, max_length=len(LimitPeriod.values),
                                            help_text="at most one per period")  # fmt: skip

    def validate_deposit_limits(self, limits):
        periods = [limit["period"] for limit in limits]
        if len(set(periods)) != len(periods):
            raise serializers.ValidationError("At most one deposit limit per period.")
        return limits


def registration_options(brand_code: str) -> dict:
    """Whether the brand's jurisdiction asks that a deposit limit be offered at registration, and
    the periods one may take. Raises UnknownBrand."""
    brand = selectors.get_brand(brand_code)
    offered = compliance.get_profile_for_brand(brand.pk).deposit_limit_at_registration
    return {"brand": brand.code, "deposit_limit_offered": offered, "deposit_limit_periods": LimitPeriod.values}


def register(validated: dict) -> Player:
    """The account and the deposit limits it was opened with, in one transaction: no account
    without its limits. `validated` is RegistrationSerializer's validated data. Raises what
    `services.register_player` and compliance's `set_limit` raise; nothing is written then."""
    fields = dict(validated)
    deposit_limits = fields.pop("deposit_limits", [])
    with transaction.atomic():
        player = services.register_player(services.Registration(**fields))
        for limit in deposit_limits:
            compliance_services.set_limit(player=player, kind=LimitKind.DEPOSIT, **limit)
    return player
