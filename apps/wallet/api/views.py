"""The seamless wallet API for game providers (contracts/wallet-api.md), one view per operation.

Every view: size and signature first (signature.py), then strict parsing (parsing.py), then one
wallet service call. Refusals are PamErrors rendered by the common exception handler.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import is_known_currency
from apps.common.idempotency import ExternalRef, fingerprint
from apps.common.schema import ErrorSerializer
from apps.games import services as games
from apps.wallet import errors, selectors, services
from apps.wallet.api.parsing import parse_call
from apps.wallet.api.signature import read_signed_body

_HEADERS = [
    OpenApiParameter("X-Provider", str, OpenApiParameter.HEADER, required=True, description="the provider's code"),
    OpenApiParameter(
        "X-Signature",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="lowercase hex HMAC-SHA256, keyed with the provider's secret, of the operation name, "
        "a newline and the raw body",
    ),
]
_ID = serializers.CharField(min_length=1, max_length=100)
_AMOUNT = serializers.IntegerField(min_value=0, max_value=10**12, help_text="minor units")
_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="INVALID_REQUEST"),
    401: OpenApiResponse(ErrorSerializer, description="INVALID_SIGNATURE, TOKEN_INVALID"),
    402: OpenApiResponse(ErrorSerializer, description="INSUFFICIENT_FUNDS"),
    403: OpenApiResponse(ErrorSerializer, description="PLAYER_BLOCKED, LIMIT_REACHED"),
    404: OpenApiResponse(ErrorSerializer, description="UNKNOWN_PLAYER"),
    409: OpenApiResponse(
        ErrorSerializer,
        description="CURRENCY_MISMATCH, DUPLICATE_TRANSACTION, TRANSACTION_ROLLED_BACK, ROLLBACK_NOT_ALLOWED",
    ),
    413: OpenApiResponse(ErrorSerializer, description="INVALID_REQUEST (body over 64 KiB)"),
}
_MONEY_ANSWER = inline_serializer(
    "WalletMoneyAnswer",
    {
        "balance": serializers.IntegerField(help_text="playable balance after the call: cash plus bonus"),
        "currency": serializers.CharField(),
        "transaction_id": serializers.CharField(help_text="PAM's id for the call"),
        "version": serializers.IntegerField(help_text="the wallet's version after the call"),
    },
)
_BALANCE_ANSWER = inline_serializer(
    "WalletBalanceAnswer",
    {"player_id": serializers.CharField(), "currency": serializers.CharField(), "balance": serializers.IntegerField()},
)
_ROUND_FIELDS = {
    "player_id": serializers.CharField(),
    "currency": serializers.CharField(min_length=3, max_length=3),
    "transaction_id": _ID,
    "round_id": _ID,
    "game_id": _ID,
}


class WalletApi(APIView):
    """Base of the operations: no session, no DRF authentication; the signature is the auth."""

    authentication_classes = []
    permission_classes = [AllowAny]
    operation: str

    def post(self, request):
        provider, body = read_signed_body(request._request, self.operation)
        fields, raw = parse_call(self.operation, body, is_known_currency)
        if "player_id" in fields and fields["player_id"] is None:
            raise errors.UnknownPlayer
        ref = None
        if "transaction_id" in fields:
            ref = ExternalRef(
                origin=f"provider:{provider.code}",
                external_id=fields["transaction_id"],
                fingerprint=fingerprint(self.operation, raw),
            )
        return Response(self.call(provider, fields, ref))

    def call(self, provider, fields: dict, ref: ExternalRef | None) -> dict:
        raise NotImplementedError


def _money_answer(posted: services.Posted) -> dict:
    return {
        "balance": posted.balance,
        "currency": posted.currency,
        "transaction_id": posted.transaction_id,
        "version": posted.version,
    }


def _documented(operation: str, request, answer, description: str = ""):
    """The OpenAPI description of one operation, as a class decorator."""
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"wallet_{operation}",
            tags=["wallet"],
            parameters=_HEADERS,
            request=request,
            responses={200: answer, **_ERRORS},
            description=description,
        )
    )


def _balance_answer(state: selectors.WalletState) -> dict:
    return {"player_id": state.player_id, "currency": state.currency, "balance": state.balance}


def _round(fields: dict, ref: ExternalRef) -> dict:
    """The arguments every game-round service takes."""
    keys = ("player_id", "currency", "round_id", "game_id")
    return {"ref": ref, **{key: fields[key] for key in keys}}


@_documented(
    "authenticate",
    inline_serializer("WalletAuthenticateCall", {"token": serializers.CharField()}),
    _BALANCE_ANSWER,
    "Exchange a launch token, once and within 10 minutes, for the player and their balance.",
)
class AuthenticateApi(WalletApi):
    operation = "authenticate"

    def call(self, provider, fields, ref):
        player = games.redeem_launch_token(token=fields["token"], provider=provider)
        return _balance_answer(selectors.get_wallet_state(player.pk))


@_documented(
    "balance",
    inline_serializer("WalletBalanceCall", {"player_id": serializers.CharField(), "currency": serializers.CharField()}),
    _BALANCE_ANSWER,
)
class BalanceApi(WalletApi):
    operation = "balance"

    def call(self, provider, fields, ref):
        state = selectors.get_wallet_state(fields["player_id"])
        if fields["currency"] != state.currency:
            raise errors.CurrencyMismatch(extra={"balance": state.balance, "currency": state.currency})
        return _balance_answer(state)


@_documented(
    "bet",
    inline_serializer("WalletBetCall", {**_ROUND_FIELDS, "amount": _AMOUNT}),
    _MONEY_ANSWER,
    "Debit the stake (cash first, then bonus). Idempotent on transaction_id.",
)
class BetApi(WalletApi):
    operation = "bet"

    def call(self, provider, fields, ref):
        return _money_answer(services.place_bet(amount=fields["amount"], **_round(fields, ref)))


@_documented(
    "win",
    inline_serializer("WalletWinCall", {**_ROUND_FIELDS, "amount": _AMOUNT}),
    _MONEY_ANSWER,
    "Credit a win (0 closes the round). Paid even to a blocked player. Idempotent on transaction_id.",
)
class WinApi(WalletApi):
    operation = "win"

    def call(self, provider, fields, ref):
        return _money_answer(services.settle_win(amount=fields["amount"], **_round(fields, ref)))


@_documented(
    "rollback",
    inline_serializer("WalletRollbackCall", {**_ROUND_FIELDS, "rolled_back_transaction_id": _ID}),
    _MONEY_ANSWER,
    "Refund exactly what the named bet took. Idempotent on transaction_id.",
)
class RollbackApi(WalletApi):
    operation = "rollback"

    def call(self, provider, fields, ref):
        target = fields["rolled_back_transaction_id"]
        return _money_answer(services.rollback_bet(rolled_back_external_id=target, **_round(fields, ref)))
