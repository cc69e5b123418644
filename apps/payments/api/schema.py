"""The OpenAPI description of the webhook endpoint and the cashier's shared pieces: exactly what
the adapter's parser accepts and what the views answer (contracts/payments.md). Documentation
only: the webhook view parses the raw body by hand, never through these serializers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from apps.common.money import MAX_AMOUNT
from apps.common.schema import (
    ErrorDetailSerializer,
    SignedRequestSchema,
    enum_field,
    printable_pattern,
    refusals,
)
from apps.payments.choices import VISIBLE_WITHDRAWAL_STATUSES, DepositStatus, EventType, WebhookVerdict
from apps.payments.signature import MAX_BODY_BYTES, TIMESTAMP_WINDOW_SECONDS

CURSOR_PATTERN = "^[1-9][0-9]{0,17}$"

SECURITY_SCHEMES = {
    "webhookTimestamp": {
        "type": "apiKey", "in": "header", "name": "X-Webhook-Timestamp",
        "description": f"Unix seconds; refused more than {TIMESTAMP_WINDOW_SECONDS} s from PAM's clock",
    },
    "webhookSignature": {
        "type": "apiKey", "in": "header", "name": "X-Webhook-Signature",
        "description": "lowercase hex HMAC-SHA256, keyed with the provider's webhook secret, of the timestamp, "
        'a full stop and the raw body: `hmac(secret, timestamp + b"." + body)`',
    },
}  # fmt: skip


class SignedWebhookSchema(SignedRequestSchema):
    """The webhook requires both signature headers."""

    security_schemes = SECURITY_SCHEMES


# The cashier has four `status` enums: each is a component of its own.
status_field = enum_field


DepositStatusField = status_field("DepositStatus", DepositStatus.values, "the deposit's status")
StartedDepositStatusField = status_field("StartedDepositStatus", [DepositStatus.PENDING.value], "always pending")
WithdrawalStatusField = status_field("WithdrawalStatus", VISIBLE_WITHDRAWAL_STATUSES, "the withdrawal's status")
WebhookVerdictField = status_field(
    "WebhookVerdict",
    [WebhookVerdict.APPLIED.value, WebhookVerdict.DUPLICATE.value, WebhookVerdict.IGNORED.value],
    "applied: its effect has committed; duplicate: this event_id was seen; ignored: it changes nothing "
    "(recorded with the reason)",
)


class CashierErrorDetail(ErrorDetailSerializer):
    remaining = serializers.IntegerField(
        required=False, help_text="LIMIT_REACHED: what the tightest deposit limit still allows, minor units"
    )


class CashierError(serializers.Serializer):
    error = CashierErrorDetail()


class WebhookEventBody(serializers.Serializer):
    event_id = serializers.RegexField(printable_pattern(1, 100), help_text="the PSP's id for the event")
    type = serializers.ChoiceField(
        choices=EventType.values, help_text="the contract's types; an event of another type is answered `ignored`"
    )
    reference = serializers.RegexField(
        printable_pattern(1, 100), help_text="PAM's deposit_id or withdrawal_id, as PAM returned it"
    )
    amount = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, help_text="minor units")
    currency = serializers.RegexField("^[A-Z]{3}$", help_text="ISO 4217")
    occurred_at = serializers.DateTimeField(help_text="ISO 8601, UTC")


class WebhookAnswer(serializers.Serializer):
    status = WebhookVerdictField()


documented_webhook = extend_schema_view(
    post=extend_schema(
        operation_id="payments_webhook",
        tags=["payments"],
        description="A PSP's event. Every authentic event is answered 200 (so that the PSP stops retrying); "
        "each is applied exactly once, whatever order events arrive in.",
        request=WebhookEventBody,
        responses={
            200: WebhookAnswer,
            **refusals(
                {
                    400: "INVALID_REQUEST (authentic, but not an event)",
                    401: "INVALID_SIGNATURE (missing or wrong signature, missing or stale timestamp, unknown provider)",
                    413: f"INVALID_REQUEST (body over {MAX_BODY_BYTES} bytes, never parsed)",
                }
            ),
        },
    )
)
