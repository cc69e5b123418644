"""Player API: registration, login, logout, the player's own profile. Thin: parse, call, shape."""

from django.contrib.auth import logout
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors, services, signup
from apps.accounts.registration_throttle import RegistrationThrottle
from apps.common.schema import CurrencyCodeField, ErrorDetailSerializer, refusals


class PlayerOutputSerializer(serializers.Serializer):
    player_id = serializers.CharField(source="public_id")
    username = serializers.CharField(source="user.username")
    email = serializers.EmailField()
    brand = serializers.CharField(source="brand.code")
    country = serializers.CharField()
    currency = CurrencyCodeField(source="currency.code")
    currency_exponent = serializers.IntegerField(source="currency.exponent")
    date_of_birth = serializers.DateField()
    status = serializers.CharField()
    kyc_status = serializers.CharField()
    created_at = serializers.DateTimeField()


class RegisterApi(APIView):
    """Registration, where the brand's jurisdiction offers a deposit limit (UKGC, MGA, SGA): `GET`
    says whether it does, and the limits given with the registration apply from the first
    deposit, set in the same transaction as the account."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [RegistrationThrottle]

    def get_throttles(self):
        return super().get_throttles() if self.request.method == "POST" else []

    class InputSerializer(signup.RegistrationSerializer):
        pass

    class OptionsQuerySerializer(serializers.Serializer):
        brand = serializers.SlugField(max_length=32, help_text="the brand's code")

    class OptionsSerializer(serializers.Serializer):
        brand = serializers.CharField()
        deposit_limit_offered = serializers.BooleanField(
            help_text="the brand's jurisdiction asks that a deposit limit be offered at registration"
        )
        deposit_limit_periods = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        operation_id="player_registration_options",
        parameters=[OptionsQuerySerializer],
        responses={200: OptionsSerializer, **refusals({400: "INVALID_REQUEST", 404: "UNKNOWN_BRAND"})},
    )
    def get(self, request):
        query = self.OptionsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(self.OptionsSerializer(signup.registration_options(query.validated_data["brand"])).data)

    @extend_schema(
        operation_id="player_register",
        request=InputSerializer,
        responses={
            201: PlayerOutputSerializer,
            **refusals(
                {
                    400: "INVALID_REQUEST",
                    404: "UNKNOWN_BRAND",
                    409: "USERNAME_TAKEN, EMAIL_TAKEN",
                    415: "UNSUPPORTED_MEDIA_TYPE",
                    422: "UNDERAGE, WEAK_PASSWORD, UNKNOWN_CURRENCY (no longer offered)",
                    429: "TOO_MANY_REQUESTS",
                }
            ),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        player = signup.register(data.validated_data)
        return Response(PlayerOutputSerializer(player).data, status=status.HTTP_201_CREATED)


class LoginLockedDetailSerializer(ErrorDetailSerializer):
    retry_after = serializers.IntegerField(help_text="seconds to wait before the next attempt")


class LoginLockedSerializer(serializers.Serializer):
    error = LoginLockedDetailSerializer()


class LoginApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        player_id = serializers.CharField()

    @extend_schema(
        operation_id="player_login",
        request=InputSerializer,
        parameters=[
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                response=[429, 503],
                description="seconds to wait before the next attempt, as `error.retry_after`",
            ),
            OpenApiParameter(
                "X-Device-Id",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description=(
                    "the client's own stable id of this device or installation (16 to 128 characters of "
                    "A-Z a-z 0-9 . _ : -), recorded with the login as its keyed hash only; absent or "
                    "malformed: no device is recorded"
                ),
            ),
        ],
        responses={
            200: OutputSerializer,
            **refusals(
                {
                    400: "INVALID_REQUEST",
                    401: "INVALID_CREDENTIALS",
                    403: "NOT_A_PLAYER",
                    415: "UNSUPPORTED_MEDIA_TYPE",
                }
            ),
            429: OpenApiResponse(
                LoginLockedSerializer,
                description=(
                    "TOO_MANY_ATTEMPTS: this username from this address must wait (growing after "
                    "repeated failures), or this address is past its ceiling of failed logins; the "
                    "password was not checked"
                ),
            ),
            503: OpenApiResponse(
                LoginLockedSerializer,
                description=(
                    "LOGIN_UNAVAILABLE: the login throttle's store (Redis) did not answer; nobody is let "
                    "in unthrottled, the password was not checked"
                ),
            ),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The plain HttpRequest: the throttle marks a refusal on it for LoginThrottleMiddleware.
        login = services.log_in_player(request=request._request, **data.validated_data)
        return Response({"token": login.token, "player_id": login.player.public_id})


class LogoutApi(APIView):
    @extend_schema(
        operation_id="player_logout",
        request=None,
        responses={204: None, **refusals({401: "NOT_AUTHENTICATED"})},
    )
    def post(self, request):
        if isinstance(request.auth, str):
            services.revoke_token(request.auth)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(
        operation_id="player_me",
        responses={200: PlayerOutputSerializer, **refusals({401: "NOT_AUTHENTICATED", 403: "NOT_A_PLAYER"})},
    )
    def get(self, request):
        return Response(PlayerOutputSerializer(selectors.get_player_for_user(request.user)).data)
