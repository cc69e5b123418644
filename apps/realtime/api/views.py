"""Player API of the real-time protocol: WebSocket tickets and the polling fallback
(contracts/realtime.md). Thin: parse, call, shape; the frames come from `protocol`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors as accounts
from apps.common.schema import CurrencyCodeField, refusals
from apps.realtime import protocol, selectors, services
from apps.wallet import selectors as wallet

_AUTHENTICATED = {401: "NOT_AUTHENTICATED", 403: "NOT_A_PLAYER (a staff user)"}


class WalletStateOutputSerializer(serializers.Serializer):
    player_id = serializers.CharField()
    version = serializers.IntegerField(help_text="grows by exactly one with each committed money movement")
    balance = serializers.IntegerField(help_text="cash + bonus, minor units")
    cash = serializers.IntegerField()
    bonus = serializers.IntegerField()
    currency = CurrencyCodeField()


class RealtimeTicketApi(APIView):
    class OutputSerializer(serializers.Serializer):
        ticket = serializers.CharField(
            help_text="pass as `?ticket=` to /ws/player/; works once. The socket it opens closes 4401 when the "
            "sign-in that asked for it (the bearer token, or the session) signs out, or the player's password changes"
        )
        expires_in = serializers.IntegerField(help_text="seconds")

    @extend_schema(
        operation_id="player_realtime_ticket",
        request=None,
        responses={201: OutputSerializer, **refusals(_AUTHENTICATED)},
    )
    def post(self, request):
        player = accounts.get_player_for_user(request.user)
        ticket = services.issue_ticket(
            player=player, credential=services.credential_of(request), session_hash=services.session_hash_of(request)
        )
        data = {"ticket": ticket, "expires_in": int(services.TICKET_LIFETIME.total_seconds())}
        return Response(self.OutputSerializer(data).data, status=status.HTTP_201_CREATED)


class WalletStateApi(APIView):
    @extend_schema(
        operation_id="player_wallet_state",
        responses={200: WalletStateOutputSerializer, **refusals(_AUTHENTICATED)},
    )
    def get(self, request):
        player = accounts.get_player_for_user(request.user)
        return Response(WalletStateOutputSerializer(wallet.get_wallet_state(player.pk)).data)


class WalletEventsApi(APIView):
    class InputSerializer(serializers.Serializer):
        since_version = serializers.IntegerField(
            min_value=0, max_value=2**63 - 1, help_text="the last wallet version the client applied"
        )

    class OutputSerializer(serializers.Serializer):
        frames = serializers.ListField(
            child=serializers.DictField(),
            help_text="`wallet.updated` frames after `since_version` in version order, or one `resync` "
            f"frame when more than {protocol.RESYNC_AFTER} are missing",
        )

    @extend_schema(
        operation_id="player_wallet_events",
        parameters=[InputSerializer],
        responses={200: OutputSerializer, **refusals({400: "INVALID_REQUEST", **_AUTHENTICATED})},
    )
    def get(self, request):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        since_version = data.validated_data["since_version"]
        player = accounts.get_player_for_user(request.user)
        frames = selectors.list_frames_since(player.pk, since_version)
        return Response({"frames": frames})
