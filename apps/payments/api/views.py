"""The cashier (player API) and the PSPs' webhook endpoint (contracts/payments.md).

Thin: parse, call one service or selector, shape. The cashier authenticates as every player
endpoint (session or Bearer); the webhook endpoint has no DRF authentication: the provider's
signature is checked on the raw body before anything is parsed.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors as accounts
from apps.common import metrics
from apps.common.errors import PamError
from apps.common.fields import StrictIntegerField
from apps.common.money import MAX_AMOUNT
from apps.common.request_params import IDEMPOTENCY_KEY, cursor, idempotency_key
from apps.common.request_params import KEY_PATTERN as _KEY_PATTERN
from apps.common.schema import CurrencyCodeField, refusals
from apps.payments import errors, selectors, services
from apps.payments.adapters import adapter_for
from apps.payments.api import schema as api_schema
from apps.payments.choices import DepositStatus, WebhookVerdict
from apps.payments.signature import read_body

_AUTHENTICATED = {401: "NOT_AUTHENTICATED", 403: "NOT_A_PLAYER (a staff user)"}
_WRITE = {400: "INVALID_REQUEST", 415: "UNSUPPORTED_MEDIA_TYPE", **_AUTHENTICATED}
_IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_KEY, str, OpenApiParameter.HEADER, required=True,
    description="1 to 100 printable ASCII characters, scoped to the player and the endpoint: the same key and body "
    "give the first answer again, status and body (a refusal too, even once the request would pass); the same key "
    "with another body is 409 DUPLICATE_TRANSACTION",
    pattern=_KEY_PATTERN,
)  # fmt: skip
_CURSOR_PARAMETER = OpenApiParameter(
    "cursor", str, OpenApiParameter.QUERY, required=False, pattern=api_schema.CURSOR_PATTERN,
    description="the previous page's `next_cursor`",
)  # fmt: skip


class PaymentInputSerializer(serializers.Serializer):
    amount = StrictIntegerField(min_value=1, max_value=MAX_AMOUNT, help_text="minor units")
    currency = CurrencyCodeField()
    provider = serializers.RegexField(r"^[-a-zA-Z0-9_]{1,32}$", help_text="the payment provider's code")


class DepositSerializer(serializers.Serializer):
    deposit_id = serializers.CharField(source="public_id")
    status = api_schema.DepositStatusField()
    amount = serializers.IntegerField(
        source="shown_amount", help_text="minor units: as credited once the PSP reported it, else as asked"
    )
    currency = serializers.CharField(source="currency_id")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WithdrawalSerializer(serializers.Serializer):
    withdrawal_id = serializers.CharField(source="public_id")
    status = api_schema.WithdrawalStatusField()
    amount = serializers.IntegerField(help_text="minor units")
    currency = serializers.CharField(source="currency_id")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DepositListSerializer(serializers.Serializer):
    results = DepositSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="null on the last page")


class WithdrawalListSerializer(serializers.Serializer):
    results = WithdrawalSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="null on the last page")


def _page(rows, next_cursor, serializer) -> dict:
    return {
        "results": serializer(rows, many=True).data,
        "next_cursor": None if next_cursor is None else str(next_cursor),
    }


def _start(request, service):
    """Parse a cashier request (the player, the Idempotency-Key, the body) and hand it to
    `service` (start_deposit or request_withdrawal); the deposit or withdrawal it answers."""
    player = accounts.get_player_for_user(request.user)
    key = idempotency_key(request)
    data = PaymentInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    fields = data.validated_data
    started = service(
        player=player, amount=fields["amount"], currency=fields["currency"], provider_code=fields["provider"],
        idempotency_key=key,
    )  # fmt: skip
    return started.payment


class DepositsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        deposit_id = serializers.CharField()
        status = api_schema.StartedDepositStatusField()
        redirect_url = serializers.URLField(
            help_text="the PSP's hosted payment page (an absolute URL): send the player there"
        )

    @extend_schema(
        operation_id="player_deposits_list",
        parameters=[_CURSOR_PARAMETER],
        responses={200: DepositListSerializer, **refusals({400: "INVALID_REQUEST (cursor)", **_AUTHENTICATED})},
    )
    def get(self, request):
        player = accounts.get_player_for_user(request.user)
        rows, next_cursor = selectors.list_player_deposits(player, cursor(request))
        return Response(_page(rows, next_cursor, DepositSerializer))

    @extend_schema(
        operation_id="player_deposits_start",
        description="Start a deposit: checks the player may deposit this amount now, then answers the PSP's "
        "hosted page. No money moves until the PSP's webhook says the payment succeeded.",
        parameters=[_IDEMPOTENCY_PARAMETER],
        request=PaymentInputSerializer,
        responses={
            201: OutputSerializer,
            **refusals({
                **_WRITE,
                400: "INVALID_REQUEST (also: the amount is outside the provider's minimum and maximum)",
                403: "PLAYER_BLOCKED (excluded, timed out, locked, frozen, or verification needed), "
                "LIMIT_REACHED (`error.remaining`: the headroom), NOT_A_PLAYER",
                404: "UNKNOWN_PROVIDER",
                409: "CURRENCY_MISMATCH, DUPLICATE_TRANSACTION (the key with another body)",
            }, api_schema.CashierError),
        },
    )  # fmt: skip
    def post(self, request):
        intent = _start(request, services.start_deposit)
        # The first answer, also on a replay: a deposit's first answer is always `pending`.
        # Absolute, for a front end on another origin (the sandbox's page is PAM's own path; a real
        # PSP's URL is absolute already and stays as it is).
        redirect_url = request.build_absolute_uri(intent.redirect_url)
        body = {"deposit_id": intent.public_id, "status": DepositStatus.PENDING, "redirect_url": redirect_url}
        return Response(body, status=status.HTTP_201_CREATED)


class DepositApi(APIView):
    @extend_schema(
        operation_id="player_deposit",
        responses={200: DepositSerializer, **refusals({**_AUTHENTICATED, 404: "NOT_FOUND"})},
    )
    def get(self, request, deposit_id: str):
        player = accounts.get_player_for_user(request.user)
        return Response(DepositSerializer(selectors.get_player_deposit(player, deposit_id)).data)


class WithdrawalsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        withdrawal_id = serializers.CharField()
        status = api_schema.WithdrawalStatusField()

    @extend_schema(
        operation_id="player_withdrawals_list",
        parameters=[_CURSOR_PARAMETER],
        responses={200: WithdrawalListSerializer, **refusals({400: "INVALID_REQUEST (cursor)", **_AUTHENTICATED})},
    )
    def get(self, request):
        player = accounts.get_player_for_user(request.user)
        rows, next_cursor = selectors.list_player_withdrawals(player, cursor(request))
        return Response(_page(rows, next_cursor, WithdrawalSerializer))

    @extend_schema(
        operation_id="player_withdrawals_request",
        description="Request a withdrawal: the amount leaves the playable balance at once. `approved` (sent to "
        "the PSP) within the brand's threshold when no risk rule flags it, else `awaiting_approval`. A "
        "self-excluded or timed-out player can withdraw.",
        parameters=[_IDEMPOTENCY_PARAMETER],
        request=PaymentInputSerializer,
        responses={
            201: OutputSerializer,
            **refusals({
                **_WRITE,
                402: "INSUFFICIENT_FUNDS (only cash can be withdrawn)",
                403: "PLAYER_BLOCKED (not verified, or frozen), NOT_A_PLAYER",
                404: "UNKNOWN_PROVIDER",
                409: "CURRENCY_MISMATCH, DUPLICATE_TRANSACTION (the key with another body)",
            }, api_schema.CashierError),
        },
    )  # fmt: skip
    def post(self, request):
        withdrawal = _start(request, services.request_withdrawal)
        body = {"withdrawal_id": withdrawal.public_id, "status": withdrawal.initial_status or withdrawal.status}
        return Response(body, status=status.HTTP_201_CREATED)


class WithdrawalApi(APIView):
    @extend_schema(
        operation_id="player_withdrawal",
        responses={200: WithdrawalSerializer, **refusals({**_AUTHENTICATED, 404: "NOT_FOUND"})},
    )
    def get(self, request, withdrawal_id: str):
        player = accounts.get_player_for_user(request.user)
        return Response(WithdrawalSerializer(selectors.get_player_withdrawal(player, withdrawal_id)).data)


class CancelWithdrawalApi(APIView):
    @extend_schema(
        operation_id="player_withdrawal_cancel",
        description="Only while `awaiting_approval`: `cancelled`, the money back in the playable balance.",
        request=None,
        responses={
            200: WithdrawalSerializer,
            **refusals({**_AUTHENTICATED, 404: "NOT_FOUND", 409: "WITHDRAWAL_NOT_CANCELLABLE"}),
        },
    )
    def post(self, request, withdrawal_id: str):
        player = accounts.get_player_for_user(request.user)
        withdrawal = services.cancel_withdrawal(player=player, withdrawal_id=withdrawal_id)
        return Response(WithdrawalSerializer(withdrawal).data)


@api_schema.documented_webhook
class WebhookApi(APIView):
    """No session, no DRF authentication or parsing: the signature over the raw body is the auth."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = api_schema.SignedWebhookSchema()

    def post(self, request, provider: str):
        # A disabled provider takes no new payments, but what it already took still settles: its
        # refunds, chargebacks (months later) and payouts must land, not be retried forever.
        psp = selectors.get_provider(provider)
        if psp is None:
            metrics.webhook_verdict(provider=None, verdict=WebhookVerdict.REFUSED)
            read_body(request._request)  # a body over the limit is 413 whoever sends it
            raise errors.InvalidSignature("Unknown payment provider.")
        try:
            body = read_body(request._request)
            event = adapter_for(psp).verify_and_parse_webhook(request.headers, body)
        except PamError as refusal:
            services.record_refused_webhook(provider=psp, reason=f"{refusal.code}: {refusal.message}")
            metrics.webhook_verdict(provider=psp.code, verdict=WebhookVerdict.REFUSED)
            raise
        verdict = services.receive_webhook(provider=psp, event=event)
        metrics.webhook_verdict(provider=psp.code, verdict=verdict)
        return Response({"status": verdict})
