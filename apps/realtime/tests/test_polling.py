"""The polling fallback: GET /wallet (the current state) and GET /wallet/events (the frames a
client missed, rebuilt from the ledger, identical to the live ones; one `resync` past 500)."""

import time

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_player, make_staff
from apps.common.idempotency import ExternalRef
from apps.realtime import protocol
from apps.wallet import services as wallet
from apps.wallet.choices import TransactionKind
from apps.wallet.models import Transaction
from apps.wallet.signals import transaction_posted

WALLET = "/api/player/v1/wallet"
EVENTS = "/api/player/v1/wallet/events"
pytestmark = pytest.mark.django_db
_refs = iter(range(10**6))


@pytest.fixture
def posted() -> list[dict]:
    """The payloads of every live `transaction_posted` sent during the test, in order."""
    received: list[dict] = []

    def receiver(sender, signal, event_id, **payload):
        received.append(payload)

    transaction_posted.connect(receiver, weak=False)
    yield received
    transaction_posted.disconnect(receiver)


def a_ref(origin: str = "provider:poll-test") -> ExternalRef:
    n = next(_refs)
    return ExternalRef(origin, f"tx-{n}", f"fp-{n}")


def deposit(player, amount: int) -> wallet.Posted:
    return wallet.adjust_balance(player_id=player.pk, amount=amount, reason="test funds", acting_user=None)


def grant_bonus(player, amount: int) -> wallet.Posted:
    return wallet.credit(
        player_id=player.pk, currency="EUR", amount=amount, kind=TransactionKind.BONUS, ref=a_ref("bonus:test"),
        counter="bonus_pool", to_bonus=True,
    )  # fmt: skip


def bet(player, amount: int) -> wallet.Posted:
    return wallet.place_bet(
        player_id=player.pk, currency="EUR", amount=amount, ref=a_ref(), round_id="r1", game_id="slot-1"
    )


def win(player, amount: int) -> wallet.Posted:
    return wallet.settle_win(
        player_id=player.pk, currency="EUR", amount=amount, ref=a_ref(), round_id="r1", game_id="slot-1"
    )


def created_at(posted: wallet.Posted) -> str:
    return Transaction.objects.get(pk=posted.transaction_id).created_at.isoformat().replace("+00:00", "Z")


def events(client, since_version) -> list[dict]:
    response = client.get(EVENTS, {"since_version": since_version})
    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"frames"}
    return response.json()["frames"]


@pytest.fixture
def player_client(api_client):
    player = make_player(username="ann")
    api_client.force_login(player.user)
    api_client.player = player
    return api_client


# --- GET /wallet ---------------------------------------------------------------------------------


def test_wallet_of_a_new_player_is_empty_at_version_0(player_client):
    response = player_client.get(WALLET)

    assert response.status_code == 200
    assert response.json() == {
        "player_id": str(player_client.player.pk), "version": 0, "balance": 0, "cash": 0, "bonus": 0,
        "currency": "EUR",
    }  # fmt: skip


def test_wallet_is_the_committed_state(player_client):
    player = player_client.player
    deposit(player, 1000)
    grant_bonus(player, 500)
    bet(player, 1200)  # 1000 from cash, then 200 from bonus

    response = player_client.get(WALLET)

    assert response.status_code == 200
    assert response.json() == {
        "player_id": str(player.pk), "version": 3, "balance": 300, "cash": 0, "bonus": 300, "currency": "EUR",
    }  # fmt: skip


def test_wallet_with_bearer_token(api_client):
    player = make_player(username="bob")
    deposit(player, 250)
    token = api_client.post(
        "/api/player/v1/auth/login", {"username": "bob", "password": PASSWORD}, format="json"
    ).json()["token"]

    response = api_client.get(WALLET, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response.json() == {
        "player_id": str(player.pk), "version": 1, "balance": 250, "cash": 250, "bonus": 0, "currency": "EUR",
    }  # fmt: skip


# --- GET /wallet/events --------------------------------------------------------------------------


def test_events_are_the_frames_after_since_version_in_order(player_client, posted, django_capture_on_commit_callbacks):
    player = player_client.player
    with django_capture_on_commit_callbacks(execute=True):
        first = deposit(player, 1000)
        bonus = grant_bonus(player, 500)
        the_bet = bet(player, 1200)  # takes all 1000 cash, then 200 of the bonus
        the_win = win(player, 50)

    frames = events(player_client, 1)

    assert frames == [
        {
            "type": "wallet.updated", "version": 2, "balance": 1500, "cash": 1000, "bonus": 500, "currency": "EUR",
            "transaction": {"id": bonus.transaction_id, "kind": "bonus", "amount": 500, "game_id": "",
                            "created_at": created_at(bonus)},
        },
        {
            "type": "wallet.updated", "version": 3, "balance": 300, "cash": 0, "bonus": 300, "currency": "EUR",
            "transaction": {"id": the_bet.transaction_id, "kind": "bet", "amount": -1200, "game_id": "slot-1",
                            "created_at": created_at(the_bet)},
        },
        {
            # the win split as the bet was paid: 50 * 200 / 1200 = 8 to bonus, the other 42 to cash
            "type": "wallet.updated", "version": 4, "balance": 350, "cash": 42, "bonus": 308, "currency": "EUR",
            "transaction": {"id": the_win.transaction_id, "kind": "win", "amount": 50, "game_id": "slot-1",
                            "created_at": created_at(the_win)},
        },
    ]  # fmt: skip
    # Replayed frames are the live ones, byte for byte.
    assert len(posted) == 4
    assert frames == [protocol.wallet_updated(event) for event in posted[1:]]
    assert events(player_client, 0) == [protocol.wallet_updated(event) for event in posted]
    assert events(player_client, 0)[0]["transaction"] == {
        "id": first.transaction_id, "kind": "adjustment", "amount": 1000, "game_id": "", "created_at": created_at(first)
    }  # fmt: skip
    assert events(player_client, 3) == [protocol.wallet_updated(posted[3])]


@pytest.mark.parametrize("since_version", [4, 5, 10**12, 2**63 - 1])
def test_events_at_or_past_the_current_version_are_empty(player_client, since_version):
    for amount in (100, 200, 300, 400):
        deposit(player_client.player, amount)

    assert events(player_client, since_version) == []


def test_events_of_a_player_without_a_wallet_are_empty(player_client):
    assert events(player_client, 0) == []


def test_events_are_only_the_players_own(player_client):
    other = make_player(username="other")
    deposit(other, 700)
    deposit(player_client.player, 100)

    frames = events(player_client, 0)

    assert [(f["version"], f["balance"]) for f in frames] == [(1, 100)]


def test_more_than_500_missing_is_one_resync_and_500_missing_is_500_frames(player_client):
    player = player_client.player
    started = time.monotonic()
    for _ in range(501):
        deposit(player, 1)
    assert time.monotonic() - started < 15

    # 501 missing: one resync frame with the current state.
    assert events(player_client, 0) == [
        {"type": "resync", "version": 501, "balance": 501, "cash": 501, "bonus": 0, "currency": "EUR",
         "reason": "gap_too_old"},
    ]  # fmt: skip
    # 500 missing: all 500, in order.
    frames = events(player_client, 1)
    assert len(frames) == 500
    assert [f["type"] for f in frames] == ["wallet.updated"] * 500
    assert [(f["version"], f["balance"], f["cash"], f["bonus"]) for f in frames] == [
        (v, v, v, 0) for v in range(2, 502)
    ]
    assert {(f["transaction"]["kind"], f["transaction"]["amount"]) for f in frames} == {("adjustment", 1)}
    assert len({f["transaction"]["id"] for f in frames}) == 500


@pytest.mark.parametrize("query", [{}, {"since_version": ""}, {"since_version": "-1"}, {"since_version": "abc"},
                                   {"since_version": "1.5"}, {"since_version": "1e3"},
                                   {"since_version": str(2**63)}])  # fmt: skip
def test_a_bad_since_version_is_400_invalid_request(player_client, query):
    deposit(player_client.player, 100)

    response = player_client.get(EVENTS, query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"
    assert list(response.json()["error"]["fields"]) == ["since_version"]


@pytest.mark.parametrize("url", [WALLET, f"{EVENTS}?since_version=0"])
def test_unauthenticated_is_401(api_client, url):
    response = api_client.get(url)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


@pytest.mark.parametrize("url", [WALLET, f"{EVENTS}?since_version=0"])
def test_staff_is_403_not_a_player(api_client, url):
    api_client.force_login(make_staff(StaffRole.ADMIN))

    response = api_client.get(url)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NOT_A_PLAYER"
