"""The odds feed's endpoint and the player's events (contracts/sportsbook.md).

Thin: check, parse, call one service or selector, shape. The feed endpoint has no DRF
authentication or parsing: the feed's signature over the raw body is checked before anything is
parsed. Prices are public: the events need no login.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.errors import InvalidRequest
from apps.common.schema import refusals
from apps.sportsbook import selectors, services
from apps.sportsbook.api import schema as api_schema
from apps.sportsbook.feed import parse_batch
from apps.sportsbook.signature import read_signed_body


@api_schema.documented_feed
class FeedMessagesApi(APIView):
    """No session, no DRF authentication or parsing: the signature over the raw body is the auth."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = api_schema.SignedFeedSchema()

    def post(self, request):
        feed, body = read_signed_body(request._request)
        result = services.apply_feed_batch(feed_id=feed.pk, batch=parse_batch(body))
        return Response({"applied": result.applied, "skipped": result.skipped})


class SelectionSerializer(serializers.Serializer):
    selection_id = serializers.CharField()
    name = serializers.CharField()
    price = api_schema.PriceField()


class MarketSerializer(serializers.Serializer):
    market_id = serializers.CharField()
    name = serializers.CharField()
    status = api_schema.MarketStatusField()
    version = serializers.IntegerField(min_value=1, help_text="+1 with each change of its prices or status")
    selections = SelectionSerializer(many=True)


class EventSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    name = serializers.CharField()
    sport = serializers.CharField()
    starts_at = serializers.DateTimeField()
    status = api_schema.EventStatusField()
    markets = MarketSerializer(many=True)


class EventsApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        events = EventSerializer(many=True)

    @extend_schema(
        operation_id="player_sportsbook_events",
        tags=["sportsbook"],
        auth=[],
        description="The events on sale, soonest first, with their markets and prices. No login needed.",
        parameters=[
            OpenApiParameter(
                "status", str, OpenApiParameter.QUERY, required=False, enum=api_schema.LISTED_STATUSES,
                description="only the events in play (`live`) or not yet started (`upcoming`); both when left out",
            )
        ],
        responses={200: OutputSerializer, **refusals({400: "INVALID_REQUEST (an unknown status)"})},
    )  # fmt: skip
    def get(self, request):
        status = request.query_params.get("status")
        if status is not None and status not in api_schema.LISTED_STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(api_schema.LISTED_STATUSES)}.")
        statuses = [status] if status is not None else api_schema.LISTED_STATUSES
        return Response(self.OutputSerializer({"events": selectors.list_events(statuses=statuses)}).data)
