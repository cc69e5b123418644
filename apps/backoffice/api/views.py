"""The staff API (`/api/backoffice/v1/`): the back office's decisions for scripts and other
front ends, through the same services as the admin pages, so the four eyes and the staff trail
hold however a decision arrives (docs/backoffice.md, "Staff API").

Staff only, by their back-office session (DRF's SessionAuthentication, which enforces CSRF: a
page of another site cannot make a logged-in staff member's browser decide); each operation
needs its permission, as the admin's pages and actions do. Thin: parse, call one service, shape.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import StrictIntegerField
from apps.common.request_params import IDEMPOTENCY_KEY, idempotency_key, key_pattern
from apps.common.schema import refusals
from apps.payments import selectors as payments_selectors
from apps.payments import services as payments
from apps.wallet import services as wallet
from apps.wallet.choices import AdjustmentReason, AdjustmentStatus

# As long as the request's stored key may be.
_KEY_PATTERN = key_pattern(64)
_ADJUSTMENT_MAX = 10**12

_AUTH = {401: "NOT_AUTHENTICATED", 403: "PERMISSION_DENIED (not staff, without the permission, or no CSRF token)"}
_WRITE = {400: "INVALID_REQUEST", 415: "UNSUPPORTED_MEDIA_TYPE", **_AUTH}


class StaffPermission(BasePermission):
    """A staff user holding the view's `required_permission` (an `app_label.codename`)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm(view.required_permission))


class StaffApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [StaffPermission]
    required_permission = ""


class AdjustmentInputSerializer(serializers.Serializer):
    player_id = StrictIntegerField(min_value=1, max_value=2**63 - 1)
    amount = StrictIntegerField(
        min_value=-_ADJUSTMENT_MAX, max_value=_ADJUSTMENT_MAX,
        help_text="signed minor units of the player's currency, not 0: positive credits the player",
    )  # fmt: skip
    reason_code = serializers.ChoiceField(choices=AdjustmentReason.choices)
    reason = serializers.CharField(max_length=2000, help_text="what happened, in words")

    def validate_amount(self, amount: int) -> int:
        if amount == 0:
            raise serializers.ValidationError("An adjustment moves money: not 0.")
        return amount


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="why it is rejected")


class AdjustmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AdjustmentStatus.choices)
    needs_approval = serializers.BooleanField(help_text="at or above the currency's four-eyes threshold")
    player_id = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="signed minor units")
    currency = serializers.CharField(source="currency_id")
    reason_code = serializers.ChoiceField(choices=AdjustmentReason.choices)
    reason = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, help_text="the second approver")
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField(help_text="why it was rejected; empty otherwise")
    transaction_id = serializers.CharField(allow_null=True, help_text="the posted ledger transaction, once approved")


class WithdrawalDecisionSerializer(serializers.Serializer):
    withdrawal_id = serializers.CharField(source="public_id")
    status = serializers.CharField()
    amount = serializers.IntegerField(help_text="minor units")
    currency = serializers.CharField(source="currency_id")
    approved_by = serializers.CharField(source="approved_by.username", allow_null=True)
    reason = serializers.CharField(help_text="the rejection's reason; empty otherwise")


_ADJUSTMENT_DECISION_REFUSALS = {
    **_AUTH,
    402: "INSUFFICIENT_FUNDS (a debit beyond the player's cash: the request stays pending)",
    403: "FOUR_EYES_REQUIRED (the requester), PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ADJUSTMENT_NOT_PENDING",
}


class AdjustmentsApi(StaffApi):
    required_permission = "wallet.adjust_balance"

    @extend_schema(
        operation_id="backoffice_adjustments_request",
        description="Adjust a player's cash with a reason code. Below the currency's four-eyes threshold it is "
        "posted at once (`approved`, with its transaction); at or above it, it is `pending` until another "
        "staff member approves it.",
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY,
                str,
                OpenApiParameter.HEADER,
                required=True,
                pattern=_KEY_PATTERN,
                description="1 to 64 printable ASCII characters: the same key and body give the first request "
                "again; the same key with another body is 409 DUPLICATE_TRANSACTION",
            )
        ],
        request=AdjustmentInputSerializer,
        responses={
            201: AdjustmentSerializer,
            **refusals(
                {
                    **_WRITE,
                    402: "INSUFFICIENT_FUNDS (a debit posted at once beyond the player's cash)",
                    404: "UNKNOWN_PLAYER",
                    409: "DUPLICATE_TRANSACTION (the key with another body)",
                    422: "INVALID_ADJUSTMENT",
                }
            ),
        },
    )
    def post(self, request):
        key = idempotency_key(request, max_length=64)
        data = AdjustmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        adjustment = wallet.request_adjustment(**data.validated_data, acting_user=request.user, idempotency_key=key)
        return Response(AdjustmentSerializer(adjustment).data, status=status.HTTP_201_CREATED)


class ApproveAdjustmentApi(StaffApi):
    required_permission = "wallet.approve_adjustment"

    @extend_schema(
        operation_id="backoffice_adjustment_approve",
        description="Approve another staff member's pending adjustment: it is posted, and you are recorded as the "
        "second approver. Sent twice, it posts once.",
        request=None,
        responses={200: AdjustmentSerializer, **refusals(_ADJUSTMENT_DECISION_REFUSALS)},
    )
    def post(self, request, adjustment_id: int):
        adjustment = wallet.approve_adjustment(request_id=adjustment_id, acting_user=request.user)
        return Response(AdjustmentSerializer(adjustment).data)


class RejectAdjustmentApi(StaffApi):
    required_permission = "wallet.approve_adjustment"

    @extend_schema(
        operation_id="backoffice_adjustment_reject",
        description="Reject another staff member's pending adjustment, with a reason: no money moves.",
        request=ReasonSerializer,
        responses={
            200: AdjustmentSerializer,
            **refusals({**_ADJUSTMENT_DECISION_REFUSALS, **_WRITE, 403: _ADJUSTMENT_DECISION_REFUSALS[403],
                        422: "INVALID_ADJUSTMENT (a blank reason)"}),
        },
    )  # fmt: skip
    def post(self, request, adjustment_id: int):
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        adjustment = wallet.reject_adjustment(
            request_id=adjustment_id, acting_user=request.user, reason=data.validated_data["reason"]
        )
        return Response(AdjustmentSerializer(adjustment).data)


_WITHDRAWAL_DECISION_REFUSALS = {
    **_AUTH,
    403: "FOUR_EYES_REQUIRED (whoever requested or last touched it, or the player), PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "WITHDRAWAL_NOT_AWAITING_APPROVAL",
}


class ApproveWithdrawalApi(StaffApi):
    required_permission = "payments.approve_withdrawal"

    @extend_schema(
        operation_id="backoffice_withdrawal_approve",
        description="Approve a withdrawal awaiting approval: it is sent to the PSP.",
        request=None,
        responses={200: WithdrawalDecisionSerializer, **refusals(_WITHDRAWAL_DECISION_REFUSALS)},
    )
    def post(self, request, withdrawal_id: str):
        withdrawal = payments_selectors.get_withdrawal(withdrawal_id)
        approved = payments.approve_withdrawal(withdrawal_id=withdrawal.pk, acting_user=request.user)
        return Response(WithdrawalDecisionSerializer(approved).data)


class RejectWithdrawalApi(StaffApi):
    required_permission = "payments.approve_withdrawal"

    @extend_schema(
        operation_id="backoffice_withdrawal_reject",
        description="Reject a withdrawal awaiting approval, with a reason: its money goes back to the player's cash.",
        request=ReasonSerializer,
        responses={200: WithdrawalDecisionSerializer, **refusals({**_WITHDRAWAL_DECISION_REFUSALS, **_WRITE,
                                                                   403: "PERMISSION_DENIED"})},
    )  # fmt: skip
    def post(self, request, withdrawal_id: str):
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"]
        withdrawal = payments_selectors.get_withdrawal(withdrawal_id)
        rejected = payments.reject_withdrawal(withdrawal_id=withdrawal.pk, acting_user=request.user, reason=reason)
        return Response(WithdrawalDecisionSerializer(rejected).data)
