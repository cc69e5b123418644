"""Player API: registration, login, logout, the player's own profile. Thin: parse, call, shape."""

from django.contrib.auth import logout
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.accounts import selectors, services
from apps.common.schema import ErrorSerializer


class PlayerOutputSerializer(serializers.Serializer):
    player_id = serializers.CharField(source="public_id")
    username = serializers.CharField(source="user.username")
    email = serializers.EmailField()
    brand = serializers.CharField(source="brand.code")
    country = serializers.CharField()
    currency = serializers.CharField(source="currency.code")
    currency_exponent = serializers.IntegerField(source="currency.exponent")
    date_of_birth = serializers.DateField()
    status = serializers.CharField()
    kyc_status = serializers.CharField()
    created_at = serializers.DateTimeField()


class RegisterApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "registration"

    class InputSerializer(serializers.Serializer):
        username = serializers.RegexField(r"^[A-Za-z0-9_.-]{3,150}$")
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        date_of_birth = serializers.DateField()
        country = serializers.RegexField(r"^[A-Z]{2}$", help_text="ISO 3166-1 alpha-2, upper case")
        currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217, upper case")
        brand = serializers.SlugField(max_length=32, help_text="the brand's code")

    @extend_schema(
        operation_id="player_register",
        request=InputSerializer,
        responses={
            201: PlayerOutputSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="INVALID_REQUEST, UNDERAGE, WEAK_PASSWORD, UNKNOWN_CURRENCY, UNKNOWN_BRAND"
            ),
            409: OpenApiResponse(ErrorSerializer, description="USERNAME_TAKEN, EMAIL_TAKEN"),
            429: OpenApiResponse(ErrorSerializer, description="TOO_MANY_REQUESTS"),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        player = services.register_player(services.Registration(**data.validated_data))
        return Response(PlayerOutputSerializer(player).data, status=status.HTTP_201_CREATED)


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
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(ErrorSerializer, description="INVALID_REQUEST"),
            401: OpenApiResponse(ErrorSerializer, description="INVALID_CREDENTIALS"),
            403: OpenApiResponse(ErrorSerializer, description="NOT_A_PLAYER"),
            429: OpenApiResponse(ErrorSerializer, description="TOO_MANY_ATTEMPTS (account or IP locked out)"),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The plain HttpRequest: django-axes marks a lockout on it for its middleware to see.
        login = services.log_in_player(request=request._request, **data.validated_data)
        return Response({"token": login.token, "player_id": login.player.public_id})


class LogoutApi(APIView):
    @extend_schema(
        operation_id="player_logout",
        request=None,
        responses={204: None, 401: OpenApiResponse(ErrorSerializer, description="NOT_AUTHENTICATED")},
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
        responses={
            200: PlayerOutputSerializer,
            401: OpenApiResponse(ErrorSerializer, description="NOT_AUTHENTICATED"),
            403: OpenApiResponse(ErrorSerializer, description="NOT_A_PLAYER"),
        },
    )
    def get(self, request):
        return Response(PlayerOutputSerializer(selectors.get_player_for_user(request.user)).data)
