"""The OpenAPI description of the seamless wallet API: exactly what `parsing.py` accepts and
what the views answer (contracts/wallet-api.md). Documentation only: the views parse bodies by
hand, never through these serializers."""

from __future__ import annotations

from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from apps.common.money import MAX_AMOUNT
from apps.common.schema import (
    CurrencyCodeField,
    ErrorDetailSerializer,
    PamAutoSchema,
    component,
    printable_pattern,
    refusals,
)
from apps.wallet.api.signature import MAX_BODY_BYTES

# The two headers of the signature, declared as one security requirement: the provider's code
# names the secret, the signature proves the caller holds it.
SECURITY_SCHEMES = {
    "providerCode": {"type": "apiKey", "in": "header", "name": "X-Provider", "description": "the provider's code"},
    "providerSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Signature",
        "description": "lowercase hex HMAC-SHA256, keyed with the provider's secret, of the operation name, "
        'a newline and the raw request body: `hmac(secret, b"bet\\n" + body)`',
    },
}


class SignedWalletSchema(PamAutoSchema):
    """Every wallet operation requires both signature headers."""

    def get_auth(self):
        for name, definition in SECURITY_SCHEMES.items():
            self.registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.SECURITY_SCHEMA, object=name, schema=definition)
            )
        return [{name: [] for name in SECURITY_SCHEMES}]


@extend_schema_field(
    component(
        "ExternalId",
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "pattern": printable_pattern(1, 100),
            "description": "1 to 100 printable characters (Python's `str.isprintable`), scoped per provider",
        },
    )
)
class ExternalIdField(serializers.Field):
    pass


@extend_schema_field(
    {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[ -~]{1,200}$", "description": "a launch token"}
)
class LaunchTokenField(serializers.Field):
    pass


def _amount(minimum: int) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=minimum, max_value=MAX_AMOUNT, help_text="minor units")


class WalletAuthenticateCall(serializers.Serializer):
    token = LaunchTokenField()


class WalletBalanceCall(serializers.Serializer):
    player_id = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text="PAM's id for the player; a string that names none is 404"
    )
    currency = CurrencyCodeField()


class WalletRoundCall(WalletBalanceCall):
    transaction_id = ExternalIdField()
    round_id = ExternalIdField()
    game_id = ExternalIdField()


class WalletBetCall(WalletRoundCall):
    amount = _amount(1)


class WalletWinCall(WalletRoundCall):
    amount = _amount(0)


class WalletRollbackCall(WalletRoundCall):
    rolled_back_transaction_id = ExternalIdField()


class WalletBalanceAnswer(serializers.Serializer):
    player_id = serializers.CharField()
    currency = CurrencyCodeField()
    balance = serializers.IntegerField(min_value=0, help_text="playable balance: cash plus bonus")


class WalletMoneyAnswer(serializers.Serializer):
    balance = serializers.IntegerField(min_value=0, help_text="playable balance after the call: cash plus bonus")
    currency = CurrencyCodeField()
    transaction_id = serializers.CharField(help_text="PAM's id for the call")
    version = serializers.IntegerField(min_value=0, help_text="the wallet's version after the call")


class WalletError(serializers.Serializer):
    error = ErrorDetailSerializer()
    balance = serializers.IntegerField(required=False, min_value=0, help_text="where the player is known")
    currency = CurrencyCodeField(required=False)


_SIGNATURE = "INVALID_SIGNATURE (missing or wrong signature, unknown or disabled provider)"
_STAKE_REFUSALS = (
    "PLAYER_BLOCKED, LIMIT_REACHED (`error.reason`: `responsible_gambling_limit`, `reality_check` or `bonus_max_stake`)"
)
_CONFLICTS = "CURRENCY_MISMATCH, DUPLICATE_TRANSACTION, TRANSACTION_ROLLED_BACK, ROLLBACK_NOT_ALLOWED"
_TRANSPORT = {400: "INVALID_REQUEST", 401: _SIGNATURE, 413: f"INVALID_REQUEST (body over {MAX_BODY_BYTES} bytes)"}
REFUSALS = {
    "authenticate": {**_TRANSPORT, 401: f"{_SIGNATURE}, TOKEN_INVALID"},
    "balance": {**_TRANSPORT, 404: "UNKNOWN_PLAYER", 409: "CURRENCY_MISMATCH"},
    "bet": {**_TRANSPORT, 402: "INSUFFICIENT_FUNDS", 403: _STAKE_REFUSALS,
            404: "UNKNOWN_PLAYER", 409: _CONFLICTS},
    "win": {**_TRANSPORT, 404: "UNKNOWN_PLAYER", 409: _CONFLICTS},
    "rollback": {**_TRANSPORT, 404: "UNKNOWN_PLAYER", 409: _CONFLICTS},
}  # fmt: skip


def documented(operation: str, request, answer, description: str = ""):
    """The OpenAPI description of one operation, as a class decorator."""
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"wallet_{operation}",
            tags=["wallet"],
            request=request,
            responses={200: answer, **refusals(REFUSALS[operation], WalletError)},
            description=description,
        )
    )
