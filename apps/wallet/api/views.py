"""The seamless wallet API for game providers (contracts/wallet-api.md), one class per operation.

Every operation: size and signature first (signature.py), then strict parsing (parsing.py), then
one wallet service call. Refusals are PamErrors, answered in the API's error shape.

The classes are DRF views so that drf-spectacular describes them (schema.py), but a call is
served by `endpoint`, a plain Django view around the same steps: the body is parsed by hand and
the answer is a dict, so DRF's request wrapping, content negotiation, authentication, permission
and throttle hooks and renderer did nothing for these calls but cost every bet about a tenth of
its Python time (measured with bench/profile_bet.py).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import is_known_currency
from apps.common.errors import api_exception_handler
from apps.common.idempotency import ExternalRef, fingerprint
from apps.common.responses import json_response
from apps.games import selectors as game_selectors
from apps.games import services as games
from apps.wallet import errors, selectors, services
from apps.wallet.api import schema as api_schema
from apps.wallet.api.parsing import parse_call
from apps.wallet.api.signature import read_signed_body


class WalletApi(APIView):
    """Base of the operations: no session, no DRF authentication; the signature is the auth."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = api_schema.SignedWalletSchema()
    operation: str

    def post(self, request):
        return Response(self.answer(request._request))

    def answer(self, request: HttpRequest) -> dict:
        """The operation's answer to `request`; raises a PamError for a refusal."""
        provider, body = read_signed_body(request, self.operation)
        fields, raw = parse_call(self.operation, body, is_known_currency)
        if "player_id" in fields and fields["player_id"] is None:
            raise errors.UnknownPlayer
        ref = None
        if "transaction_id" in fields:
            ref = ExternalRef(
                origin=game_selectors.provider_origin(provider.code),
                external_id=fields["transaction_id"],
                fingerprint=fingerprint(self.operation, raw),
            )
        return self.call(provider, fields, ref)

    def call(self, provider, fields: dict, ref: ExternalRef | None) -> dict:
        raise NotImplementedError


def endpoint(api: type[WalletApi]):
    """The URL's view for operation `api`: POST only, CSRF-exempt (no cookies: the signature is
    the authentication), every refusal and every unexpected error answered as DRF's views answer
    them (`api_exception_handler`), in the API's error shape.
    Carries `cls` and `initkwargs` as DRF's `as_view` does, so the schema generator documents
    the operation from its class."""
    operation = api()

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        try:
            if request.method != "POST":
                raise MethodNotAllowed(request.method)
            return json_response(operation.answer(request))
        except Exception as exc:
            # The API's one mapping of errors to answers: a refusal's code and status, a bug
            # logged with its traceback and answered 500, all in the error shape.
            answer = api_exception_handler(exc, {"view": operation})
            response = json_response(answer.data, answer.status_code)
            if isinstance(exc, MethodNotAllowed):
                response["Allow"] = "POST"
            return response

    view.cls, view.initkwargs = api, {}
    return view


def _money_answer(posted: services.Posted) -> dict:
    return {
        "balance": posted.balance,
        "currency": posted.currency,
        "transaction_id": posted.transaction_id,
        "version": posted.version,
    }


def _balance_answer(state: selectors.WalletState) -> dict:
    return {"player_id": state.player_id, "currency": state.currency, "balance": state.balance}


def _round(fields: dict, ref: ExternalRef) -> dict:
    """The arguments every game-round service takes."""
    keys = ("player_id", "currency", "round_id", "game_id")
    return {"ref": ref, **{key: fields[key] for key in keys}}


@api_schema.documented(
    "authenticate",
    api_schema.WalletAuthenticateCall,
    api_schema.WalletBalanceAnswer,
    "Exchange a launch token, once and within 10 minutes, for the player and their balance.",
)
class AuthenticateApi(WalletApi):
    operation = "authenticate"

    def call(self, provider, fields, ref):
        player = games.redeem_launch_token(token=fields["token"], provider=provider)
        return _balance_answer(selectors.get_wallet_state(player.pk))


@api_schema.documented("balance", api_schema.WalletBalanceCall, api_schema.WalletBalanceAnswer)
class BalanceApi(WalletApi):
    operation = "balance"

    def call(self, provider, fields, ref):
        state = selectors.get_wallet_state(fields["player_id"])
        if fields["currency"] != state.currency:
            raise errors.CurrencyMismatch(extra={"balance": state.balance, "currency": state.currency})
        return _balance_answer(state)


@api_schema.documented(
    "bet",
    api_schema.WalletBetCall,
    api_schema.WalletMoneyAnswer,
    "Debit the stake (cash first, then bonus). Idempotent on transaction_id.",
)
class BetApi(WalletApi):
    operation = "bet"

    def call(self, provider, fields, ref):
        return _money_answer(services.place_bet(amount=fields["amount"], **_round(fields, ref)))


@api_schema.documented(
    "win",
    api_schema.WalletWinCall,
    api_schema.WalletMoneyAnswer,
    "Credit a win (0 closes the round). Paid even to a blocked player. Idempotent on transaction_id.",
)
class WinApi(WalletApi):
    operation = "win"

    def call(self, provider, fields, ref):
        return _money_answer(services.settle_win(amount=fields["amount"], **_round(fields, ref)))


@api_schema.documented(
    "rollback",
    api_schema.WalletRollbackCall,
    api_schema.WalletMoneyAnswer,
    "Refund exactly what the named bet took. Idempotent on transaction_id.",
)
class RollbackApi(WalletApi):
    operation = "rollback"

    def call(self, provider, fields, ref):
        target = fields["rolled_back_transaction_id"]
        return _money_answer(services.rollback_bet(rolled_back_external_id=target, **_round(fields, ref)))
