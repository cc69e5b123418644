"""Player API of player protection: limits, time-out, self-exclusion and the return,
reality checks. Session or Bearer authentication, like the rest of the player API. Thin: parse,
call a service or selector, shape; refusals are compliance errors mapped in apps.common.errors."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors as accounts
from apps.common.fields import StrictIntegerField
from apps.common.schema import component, refusals
from apps.compliance import selectors, services
from apps.compliance.choices import LimitKind, LimitPeriod, SelfExclusionPeriod
from apps.compliance.services import MAX_MONEY_LIMIT, MAX_SESSION_MINUTES, REALITY_CHECK_MINUTES, TIME_OUT_HOURS

_AUTHENTICATED = {401: "NOT_AUTHENTICATED", 403: "NOT_A_PLAYER (a staff user)"}
_READ = refusals(_AUTHENTICATED)
# A body is parsed as JSON only: another content type is 415.
_WRITE = {400: "INVALID_REQUEST", 415: "UNSUPPORTED_MEDIA_TYPE", **_AUTHENTICATED}


@extend_schema_field(
    {"type": "string", "pattern": f"^({'|'.join(SelfExclusionPeriod.values)})$", "description": "6m, 1y or 5y"}
)
class SelfExclusionPeriodField(serializers.ChoiceField):
    """A pattern, not an enum, in the schema: drf-spectacular names enums after the field, and
    `period` is already the limits' enum (24h, 7d, 30d); the override table lives in settings."""

    def __init__(self, **kwargs):
        super().__init__(choices=SelfExclusionPeriod.values, **kwargs)


class PendingSerializer(serializers.Serializer):
    amount = serializers.IntegerField(allow_null=True, help_text="null: the limit is being removed")
    effective_at = serializers.DateTimeField(help_text="when the cooling-off ends")
    needs_confirmation = serializers.BooleanField(
        help_text="true: it applies only once the player confirms it (POST limits/confirm) after effective_at"
    )


class LimitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LimitKind.values)
    period = serializers.ChoiceField(choices=LimitPeriod.values, allow_null=True, help_text="null for session")
    amount = serializers.IntegerField(help_text="minor units; minutes for a session limit")
    used = serializers.IntegerField(help_text="used in the rolling period now; minutes of this session")
    pending = PendingSerializer(allow_null=True)


class LimitsOutputSerializer(serializers.Serializer):
    limits = LimitSerializer(many=True)


def _limits_document(player) -> dict:
    return LimitsOutputSerializer({"limits": selectors.list_limits(player)}).data


class ExclusionOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    returns_at = serializers.DateTimeField(
        allow_null=True, source="returns_at_value", help_text="when the account reopens after a return request"
    )


def _exclusion_document(exclusion) -> dict:
    exclusion.returns_at_value = exclusion.returns_at()
    return ExclusionOutputSerializer(exclusion).data


_MONEY_KINDS = [kind for kind in LimitKind.values if kind != LimitKind.SESSION]


# Fields of the two shapes of a limit, read by the schema only.
@extend_schema_field(component("MoneyLimitKind", {"type": "string", "enum": _MONEY_KINDS}))
class MoneyLimitKindField(serializers.Field):
    pass


@extend_schema_field(component("SessionLimitKind", {"type": "string", "enum": [LimitKind.SESSION.value]}))
class SessionLimitKindField(serializers.Field):
    pass


@extend_schema_field(
    component("NoLimitPeriod", {"type": "string", "nullable": True, "enum": [None], "description": "always null"})
)
class NoPeriodField(serializers.Field):
    pass


class MoneyLimitInputSerializer(serializers.Serializer):
    """What `services.set_limit` accepts for a money limit, declared for the schema."""

    kind = MoneyLimitKindField()
    period = serializers.ChoiceField(choices=LimitPeriod.values)
    amount = StrictIntegerField(
        allow_null=True, min_value=0, max_value=MAX_MONEY_LIMIT, help_text="minor units; null removes the limit"
    )


class SessionLimitInputSerializer(serializers.Serializer):
    kind = SessionLimitKindField()
    period = NoPeriodField()
    amount = StrictIntegerField(
        allow_null=True, min_value=1, max_value=MAX_SESSION_MINUTES, help_text="minutes; null removes the limit"
    )


class LimitsApi(APIView):
    class InputSerializer(serializers.Serializer):
        # What DRF checks; the kind-dependent rules are the service's (InvalidLimit, 400), and the
        # schema declares both together as `_LIMIT_INPUT`.
        kind = serializers.ChoiceField(choices=LimitKind.values)
        period = serializers.ChoiceField(choices=LimitPeriod.values, allow_null=True)
        amount = StrictIntegerField(allow_null=True, min_value=0, max_value=MAX_MONEY_LIMIT)

    @extend_schema(operation_id="player_limits", responses={200: LimitsOutputSerializer, **_READ})
    def get(self, request):
        return Response(_limits_document(accounts.get_player_for_user(request.user)))

    @extend_schema(
        operation_id="player_limits_set",
        description="A new limit or a decrease applies at once; an increase or a removal is pending until "
        "the jurisdiction's cooling-off ends (and, under UKGC, until the player confirms it).",
        request=PolymorphicProxySerializer(
            component_name="LimitsApiInput",
            serializers=[MoneyLimitInputSerializer, SessionLimitInputSerializer],
            resource_type_field_name=None,
        ),
        responses={200: LimitsOutputSerializer, **refusals(_WRITE)},
    )
    def put(self, request):
        player = accounts.get_player_for_user(request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_limit(player=player, **data.validated_data)
        return Response(_limits_document(player))


class ConfirmLimitApi(APIView):
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=LimitKind.values)
        period = serializers.ChoiceField(choices=LimitPeriod.values, allow_null=True)

    @extend_schema(
        operation_id="player_limits_confirm",
        request=InputSerializer,
        responses={
            200: LimitsOutputSerializer,
            **refusals({**_WRITE, 409: "NOTHING_TO_CONFIRM, COOLING_OFF_NOT_ENDED"}),
        },
    )
    def post(self, request):
        player = accounts.get_player_for_user(request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.confirm_limit(player=player, **data.validated_data)
        return Response(_limits_document(player))


_EXCLUDED = {**_WRITE, 409: "ALREADY_EXCLUDED (until a later date)"}


class TimeOutApi(APIView):
    class InputSerializer(serializers.Serializer):
        hours = StrictIntegerField(min_value=TIME_OUT_HOURS[0], max_value=TIME_OUT_HOURS[1])

    @extend_schema(
        operation_id="player_time_out",
        description="Starts at once and cannot be lifted early; the player is logged out everywhere.",
        request=InputSerializer,
        responses={201: ExclusionOutputSerializer, **refusals(_EXCLUDED)},
    )
    def post(self, request):
        player = accounts.get_player_for_user(request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        exclusion = services.start_time_out(player=player, hours=data.validated_data["hours"])
        return Response(_exclusion_document(exclusion), status=status.HTTP_201_CREATED)


class SelfExclusionApi(APIView):
    class InputSerializer(serializers.Serializer):
        period = SelfExclusionPeriodField()

    @extend_schema(
        operation_id="player_self_exclusion",
        description="Starts at once and cannot be lifted early; the player is logged out everywhere.",
        request=InputSerializer,
        responses={201: ExclusionOutputSerializer, **refusals(_EXCLUDED)},
    )
    def post(self, request):
        player = accounts.get_player_for_user(request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        exclusion = services.self_exclude(player=player, period=data.validated_data["period"])
        return Response(_exclusion_document(exclusion), status=status.HTTP_201_CREATED)


class ReturnApi(APIView):
    @extend_schema(
        operation_id="player_return",
        description="After a time-out or self-exclusion has ended: the account reopens 24 hours later.",
        request=None,
        responses={
            200: ExclusionOutputSerializer,
            **refusals({**_AUTHENTICATED, 409: "NOT_EXCLUDED, EXCLUSION_NOT_ENDED"}),
        },
    )
    def post(self, request):
        exclusion = services.request_return(player=accounts.get_player_for_user(request.user))
        return Response(_exclusion_document(exclusion))


class RealityCheckApi(APIView):
    class InputSerializer(serializers.Serializer):
        interval_minutes = StrictIntegerField(min_value=REALITY_CHECK_MINUTES[0], max_value=REALITY_CHECK_MINUTES[1])

    class OutputSerializer(serializers.Serializer):
        interval_minutes = serializers.IntegerField()
        next_due_at = serializers.DateTimeField(allow_null=True, help_text="null until the next login")
        last_sent_at = serializers.DateTimeField(allow_null=True, help_text="the last check of this session")
        awaiting_acknowledgement = serializers.BooleanField(
            help_text="play is paused (LIMIT_REACHED) until the player acknowledges the last check"
        )

    def _state(self, player) -> Response:
        return Response(self.OutputSerializer(selectors.get_reality_check(player)).data)

    @extend_schema(operation_id="player_reality_check_get", responses={200: OutputSerializer, **_READ})
    def get(self, request):
        return self._state(accounts.get_player_for_user(request.user))

    @extend_schema(operation_id="player_reality_check", request=InputSerializer,
                   responses={200: OutputSerializer, **refusals(_WRITE)})  # fmt: skip
    def put(self, request):
        player = accounts.get_player_for_user(request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_reality_check_interval(player=player, minutes=data.validated_data["interval_minutes"])
        return self._state(player)


class RealityCheckAckApi(APIView):
    @extend_schema(
        operation_id="player_reality_check_ack",
        description="The player has read the last `reality_check` notice and continues: bets are taken again.",
        request=None,
        responses={204: None, **_READ},
    )
    def post(self, request):
        services.acknowledge_reality_check(player=accounts.get_player_for_user(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)
