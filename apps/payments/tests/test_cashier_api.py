"""The cashier's player API (contracts/payments.md, "Cashier"): every answer and every refusal
code, the Idempotency-Key's semantics, another player's payments never visible."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.accounts.choices import PlayerStatus, StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance import services as compliance
from apps.payments import selectors
from apps.payments.choices import EventType
from apps.payments.models import DepositIntent, Withdrawal
from apps.payments.tests.factories import a_provider, assert_audit_clean, cash, event, post_webhook, verified_player
from apps.wallet.tests.factories import ledger_rows

pytestmark = pytest.mark.django_db

DEPOSITS = "/api/player/v1/deposits"
WITHDRAWALS = "/api/player/v1/withdrawals"


@pytest.fixture(autouse=True)
def provider():
    return a_provider(min_deposit=1_000, max_deposit=1_000_000)


def client_of(player) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {accounts.issue_token(player.user)}")
    return client


def post(client: APIClient, url: str, body: dict, key: str | None = "key-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url, body, format="json", headers=headers)


def pay(amount: int = 5_000, currency: str = "EUR", provider: str = "sandbox") -> dict:
    return {"amount": amount, "currency": currency, "provider": provider}


def error_of(answer) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]["code"]


# --- deposits ----------------------------------------------------------------------------------------


def test_a_deposit_starts_pending_with_the_hosted_page():
    player = verified_player()

    answer = post(client_of(player), DEPOSITS, pay())

    assert answer.status_code == 201
    intent = DepositIntent.objects.get()
    assert answer.json() == {
        "deposit_id": intent.public_id,
        "status": "pending",
        "redirect_url": f"http://testserver/sandbox-psp/checkout/{intent.public_id}",
    }
    assert (intent.player, intent.amount, intent.currency_id, cash(player)) == (player, 5_000, "EUR", 0)


def test_the_same_key_and_body_give_the_first_answer_and_another_body_is_a_conflict():
    player = verified_player()
    client = client_of(player)
    first = post(client, DEPOSITS, pay())
    post_webhook(event(EventType.DEPOSIT_SUCCEEDED, first.json()["deposit_id"], 5_000))

    again = post(client, DEPOSITS, pay())
    other = post(client, DEPOSITS, pay(6_000))

    assert (again.status_code, again.json()) == (201, first.json())
    assert error_of(other) == (409, "DUPLICATE_TRANSACTION")
    assert DepositIntent.objects.count() == 1


def test_a_refused_deposit_keeps_its_answer_under_its_key_though_it_would_pass_now():
    player = verified_player()
    compliance.set_limit(player=player, kind="deposit", period="24h", amount=8_000)
    client = client_of(player)
    under_way = post(client, DEPOSITS, pay(5_000), key="a")
    refused = post(client, DEPOSITS, pay(5_000), key="b")
    post_webhook(event(EventType.DEPOSIT_FAILED, under_way.json()["deposit_id"], 5_000))  # no longer counts

    again = post(client, DEPOSITS, pay(5_000), key="b")
    other_body = post(client, DEPOSITS, pay(4_000), key="b")
    new_key = post(client, DEPOSITS, pay(5_000), key="c")

    assert error_of(refused) == (403, "LIMIT_REACHED")
    assert (again.status_code, again.json()) == (403, refused.json())  # status and body, headroom and all
    assert error_of(other_body) == (409, "DUPLICATE_TRANSACTION")
    assert new_key.status_code == 201
    assert DepositIntent.objects.count() == 2


@pytest.mark.parametrize("url", [DEPOSITS, WITHDRAWALS])
def test_a_refusal_for_an_unknown_provider_stays_its_keys_answer_once_the_provider_exists(url):
    client = client_of(verified_player(10_000))
    refused = post(client, url, pay(provider="later"))
    a_provider("later", min_deposit=1_000)

    again = post(client, url, pay(provider="later"))

    assert error_of(refused) == (404, "UNKNOWN_PROVIDER")
    assert (again.status_code, again.json()) == (404, refused.json())
    assert post(client, url, pay(provider="later"), key="key-2").status_code == 201


def test_a_refusal_kept_for_a_deposit_does_not_hold_the_key_for_withdrawals():
    client = client_of(verified_player(10_000))
    assert error_of(post(client, DEPOSITS, pay(currency="USD"))) == (409, "CURRENCY_MISMATCH")
    assert post(client, WITHDRAWALS, pay()).status_code == 201


def test_the_key_is_scoped_to_the_player_and_the_endpoint():
    player, other = verified_player(10_000), verified_player()

    mine = post(client_of(player), DEPOSITS, pay())
    theirs = post(client_of(other), DEPOSITS, pay())
    withdrawal = post(client_of(player), WITHDRAWALS, pay())

    assert [mine.status_code, theirs.status_code, withdrawal.status_code] == [201, 201, 201]
    assert mine.json()["deposit_id"] != theirs.json()["deposit_id"]


@pytest.mark.parametrize("key", [None, "", " padded", "x" * 101, "naïve"])
def test_an_idempotency_key_is_required_and_printable(key):
    answer = post(client_of(verified_player()), DEPOSITS, pay(), key=key)
    assert error_of(answer) == (400, "INVALID_REQUEST")
    assert DepositIntent.objects.count() == 0


def test_an_excluded_player_cannot_start_a_deposit():
    player = verified_player()
    client = client_of(player)
    compliance.start_time_out(player=player, hours=24)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {accounts.issue_token(player.user)}")  # logged out by it

    assert error_of(post(client, DEPOSITS, pay())) == (403, "PLAYER_BLOCKED")


def test_a_locked_player_cannot_start_a_deposit():
    player = verified_player()
    accounts.set_player_status(player_id=player.pk, status=PlayerStatus.LOCKED)
    assert error_of(post(client_of(player), DEPOSITS, pay())) == (403, "PLAYER_BLOCKED")


def test_a_deposit_over_a_limit_is_refused_with_the_headroom():
    player = verified_player()
    compliance.set_limit(player=player, kind="deposit", period="24h", amount=8_000)
    client = client_of(player)
    assert post(client, DEPOSITS, pay(5_000), key="a").status_code == 201  # pending: counts against it

    answer = post(client, DEPOSITS, pay(5_000), key="b")

    assert error_of(answer) == (403, "LIMIT_REACHED")
    error = answer.json()["error"]
    assert (error["remaining"], error["limit"]["remaining"]) == (3_000, 3_000)
    assert (
        error["message"]
        == "This would pass the 24h deposit limit of 80.00 EUR (30.00 EUR left, after 50.00 EUR in deposits under way)."
    )


def test_an_unverified_player_past_the_kyc_threshold_must_verify_first():
    player = make_player()
    client = client_of(player)
    started = post(client, DEPOSITS, pay(200_000), key="a")  # the default profile's threshold: 2,000.00
    post_webhook(event(EventType.DEPOSIT_SUCCEEDED, started.json()["deposit_id"], 200_000))

    answer = post(client, DEPOSITS, pay(1_000), key="b")

    assert error_of(answer) == (403, "PLAYER_BLOCKED")
    assert "verified" in answer.json()["error"]["message"]


def test_a_deposit_in_another_currency_is_a_conflict():
    assert error_of(post(client_of(verified_player()), DEPOSITS, pay(currency="USD"))) == (409, "CURRENCY_MISMATCH")


@pytest.mark.parametrize("amount", [999, 1_000_001])
def test_an_amount_outside_the_providers_range_is_invalid(amount):
    answer = post(client_of(verified_player()), DEPOSITS, pay(amount))
    assert error_of(answer) == (400, "INVALID_REQUEST")
    assert DepositIntent.objects.count() == 0


def test_an_unknown_or_disabled_provider_is_not_found():
    a_provider("off", enabled=False)
    client = client_of(verified_player())
    assert error_of(post(client, DEPOSITS, pay(provider="nobody"), key="a")) == (404, "UNKNOWN_PROVIDER")
    assert error_of(post(client, DEPOSITS, pay(provider="off"), key="b")) == (404, "UNKNOWN_PROVIDER")


@pytest.mark.parametrize("body", [{"amount": "5000", "currency": "EUR", "provider": "sandbox"},
                                  {"amount": 0, "currency": "EUR", "provider": "sandbox"},
                                  {"amount": 5_000, "currency": "eur", "provider": "sandbox"},
                                  {"amount": 5_000, "currency": "EUR"}])  # fmt: skip
def test_a_malformed_body_is_invalid(body):
    assert error_of(post(client_of(verified_player()), DEPOSITS, body)) == (400, "INVALID_REQUEST")


def test_no_credential_is_401_and_a_staff_user_is_403():
    assert error_of(post(APIClient(), DEPOSITS, pay())) == (401, "NOT_AUTHENTICATED")
    assert error_of(APIClient().get(WITHDRAWALS)) == (401, "NOT_AUTHENTICATED")
    staff = APIClient()
    staff.force_authenticate(make_staff(StaffRole.FINANCE))
    assert error_of(post(staff, DEPOSITS, pay())) == (403, "NOT_A_PLAYER")


def test_a_deposit_is_read_back_and_another_players_is_not_found():
    player, stranger = verified_player(), verified_player()
    deposit_id = post(client_of(player), DEPOSITS, pay()).json()["deposit_id"]
    post_webhook(event(EventType.DEPOSIT_SUCCEEDED, deposit_id, 5_000))
    intent = DepositIntent.objects.get()

    mine = client_of(player).get(f"{DEPOSITS}/{deposit_id}")
    theirs = client_of(stranger).get(f"{DEPOSITS}/{deposit_id}")
    nothing = client_of(player).get(f"{DEPOSITS}/dep_nothing")

    assert mine.json() == {
        "deposit_id": deposit_id, "status": "succeeded", "amount": 5_000, "currency": "EUR",
        "created_at": mine.json()["created_at"], "updated_at": mine.json()["updated_at"],
    }  # fmt: skip
    assert mine.json()["created_at"].startswith(intent.created_at.date().isoformat())
    assert [error_of(theirs), error_of(nothing)] == [(404, "NOT_FOUND"), (404, "NOT_FOUND")]


def test_a_deposit_shows_the_amount_credited_once_the_psp_reported_it():
    player = verified_player()
    client = client_of(player)
    deposit_id = post(client, DEPOSITS, pay(5_000)).json()["deposit_id"]
    assert client.get(f"{DEPOSITS}/{deposit_id}").json()["amount"] == 5_000

    post_webhook(event(EventType.DEPOSIT_SUCCEEDED, deposit_id, 4_500))

    assert client.get(f"{DEPOSITS}/{deposit_id}").json()["amount"] == 4_500


def test_the_lists_are_the_players_own_newest_first_by_pages(monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    player, stranger = verified_player(), verified_player()
    client = client_of(player)
    ids = [post(client, DEPOSITS, pay(1_000 + n), key=f"k{n}").json()["deposit_id"] for n in range(5)]
    post(client_of(stranger), DEPOSITS, pay())

    pages, cursor = [], None
    while True:
        answer = client.get(DEPOSITS, {"cursor": cursor} if cursor else {})
        pages.append([row["deposit_id"] for row in answer.json()["results"]])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break

    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[0:1]]
    assert error_of(client.get(DEPOSITS, {"cursor": "abc"})) == (400, "INVALID_REQUEST")


# --- withdrawals -------------------------------------------------------------------------------------


def test_a_withdrawal_is_201_with_its_status_and_replays_its_first_answer():
    player = verified_player(10_000)
    client = client_of(player)

    answer = post(client, WITHDRAWALS, pay(4_000))
    withdrawal = Withdrawal.objects.get()
    post_webhook(event(EventType.PAYOUT_SUCCEEDED, withdrawal.public_id, 4_000))
    again = post(client, WITHDRAWALS, pay(4_000))

    assert (answer.status_code, answer.json()) == (201, {"withdrawal_id": withdrawal.public_id, "status": "approved"})
    assert (again.status_code, again.json()) == (201, answer.json())  # the first answer, though it is paid now
    assert client.get(f"{WITHDRAWALS}/{withdrawal.public_id}").json()["status"] == "paid"
    assert error_of(post(client, WITHDRAWALS, pay(3_000))) == (409, "DUPLICATE_TRANSACTION")


def test_withdrawal_refusals():
    player = verified_player(1_000)
    client = client_of(player)
    before = ledger_rows()

    assert error_of(post(client, WITHDRAWALS, pay(1_001), key="a")) == (402, "INSUFFICIENT_FUNDS")
    assert error_of(post(client, WITHDRAWALS, pay(currency="USD"), key="b")) == (409, "CURRENCY_MISMATCH")
    assert error_of(post(client_of(make_player()), WITHDRAWALS, pay(1), key="c")) == (403, "PLAYER_BLOCKED")
    assert error_of(post(client, WITHDRAWALS, pay(provider="nobody"), key="d")) == (404, "UNKNOWN_PROVIDER")
    accounts.set_player_status(player_id=player.pk, status=PlayerStatus.FROZEN)
    assert error_of(post(client, WITHDRAWALS, pay(500), key="e")) == (403, "PLAYER_BLOCKED")

    assert (ledger_rows(), Withdrawal.objects.count()) == (before, 0)


def test_a_refused_withdrawal_keeps_its_answer_under_its_key_and_moves_nothing_again():
    player = verified_player(1_000)
    client = client_of(player)
    refused = post(client, WITHDRAWALS, pay(4_000), key="a")
    deposit = post(client, DEPOSITS, pay(5_000), key="d")
    post_webhook(event(EventType.DEPOSIT_SUCCEEDED, deposit.json()["deposit_id"], 5_000))  # enough cash now
    before = ledger_rows()

    again = post(client, WITHDRAWALS, pay(4_000), key="a")
    other_body = post(client, WITHDRAWALS, pay(3_000), key="a")

    assert error_of(refused) == (402, "INSUFFICIENT_FUNDS")
    assert (again.status_code, again.json()) == (402, refused.json())
    assert error_of(other_body) == (409, "DUPLICATE_TRANSACTION")
    assert (ledger_rows(), Withdrawal.objects.count(), cash(player)) == (before, 0, 6_000)
    assert post(client, WITHDRAWALS, pay(4_000), key="b").status_code == 201


def test_a_timed_out_player_can_withdraw():
    player = verified_player(10_000)
    compliance.start_time_out(player=player, hours=24)
    assert post(client_of(player), WITHDRAWALS, pay(10_000)).status_code == 201


def test_cancel_while_awaiting_approval_then_never_again():
    player = verified_player(500_000)
    client = client_of(player)
    withdrawal_id = post(client, WITHDRAWALS, pay(200_000)).json()["withdrawal_id"]

    cancelled = client.post(f"{WITHDRAWALS}/{withdrawal_id}/cancel")
    again = client.post(f"{WITHDRAWALS}/{withdrawal_id}/cancel")

    assert (cancelled.status_code, cancelled.json()["status"], cash(player)) == (200, "cancelled", 500_000)
    assert error_of(again) == (409, "WITHDRAWAL_NOT_CANCELLABLE")
    assert error_of(client_of(verified_player()).post(f"{WITHDRAWALS}/{withdrawal_id}/cancel")) == (404, "NOT_FOUND")


def test_an_approved_withdrawal_cannot_be_cancelled():
    player = verified_player(10_000)
    client = client_of(player)
    withdrawal_id = post(client, WITHDRAWALS, pay(1_000)).json()["withdrawal_id"]
    assert error_of(client.post(f"{WITHDRAWALS}/{withdrawal_id}/cancel")) == (409, "WITHDRAWAL_NOT_CANCELLABLE")


def test_the_withdrawal_list_and_detail_are_the_players_own():
    player, stranger = verified_player(10_000), verified_player(10_000)
    client = client_of(player)
    first = post(client, WITHDRAWALS, pay(1_000), key="a").json()["withdrawal_id"]
    second = post(client, WITHDRAWALS, pay(2_000), key="b").json()["withdrawal_id"]
    post(client_of(stranger), WITHDRAWALS, pay(1_000))

    listed = client.get(WITHDRAWALS).json()

    assert ([row["withdrawal_id"] for row in listed["results"]], listed["next_cursor"]) == ([second, first], None)
    assert listed["results"][0] == {
        "withdrawal_id": second, "status": "approved", "amount": 2_000, "currency": "EUR",
        "created_at": listed["results"][0]["created_at"], "updated_at": listed["results"][0]["updated_at"],
    }  # fmt: skip
    assert error_of(client_of(stranger).get(f"{WITHDRAWALS}/{first}")) == (404, "NOT_FOUND")


# --- contract review: the rules above, at their edges ---------------------------------------------------


OPERATIONS = [
    ("post", DEPOSITS), ("get", DEPOSITS), ("get", f"{DEPOSITS}/dep_x"), ("post", WITHDRAWALS), ("get", WITHDRAWALS),
    ("get", f"{WITHDRAWALS}/wd_x"), ("post", f"{WITHDRAWALS}/wd_x/cancel"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url"), OPERATIONS)
@pytest.mark.parametrize("credential", [None, "Bearer not-a-token", "Basic Zm9vOmJhcg=="])
def test_every_cashier_operation_without_a_good_credential_is_401_in_the_common_shape(method, url, credential):
    client = APIClient()
    if credential is not None:
        client.credentials(HTTP_AUTHORIZATION=credential)

    answer = getattr(client, method)(url, pay(), format="json", headers={"Idempotency-Key": "k"})

    assert answer.status_code == 401
    assert list(answer.json()) == ["error"]
    assert (answer.json()["error"]["code"], sorted(answer.json()["error"])) == (
        "NOT_AUTHENTICATED", ["code", "message"],
    )  # fmt: skip
    assert (DepositIntent.objects.count(), Withdrawal.objects.count()) == (0, 0)


@pytest.mark.parametrize("key", ["k", "x" * 100, "a b", "~!@#$%^&*()_+{}|:<>?"])
def test_an_idempotency_key_of_1_to_100_printable_characters_is_taken(key):
    player = verified_player()
    client = client_of(player)

    first = post(client, DEPOSITS, pay(), key=key)
    again = post(client, DEPOSITS, pay(), key=key)

    assert (first.status_code, again.status_code, again.json()) == (201, 201, first.json())
    assert list(DepositIntent.objects.values_list("idempotency_key", flat=True)) == [key]


@pytest.mark.parametrize("key", ["tab\there", "x" * 101])
def test_a_key_with_a_control_character_or_too_long_is_refused_on_both_endpoints(key):
    player = verified_player(10_000)
    client = client_of(player)
    before = ledger_rows()

    assert error_of(post(client, DEPOSITS, pay(), key=key)) == (400, "INVALID_REQUEST")
    assert error_of(post(client, WITHDRAWALS, pay(), key=key)) == (400, "INVALID_REQUEST")
    assert (ledger_rows(), DepositIntent.objects.count(), Withdrawal.objects.count()) == (before, 0, 0)


def test_one_key_on_deposits_and_withdrawals_is_two_independent_requests():
    player = verified_player(10_000)
    client = client_of(player)

    deposit = post(client, DEPOSITS, pay(5_000), key="shared")
    withdrawal = post(client, WITHDRAWALS, pay(3_000), key="shared")  # another body: no conflict
    deposit_again = post(client, DEPOSITS, pay(5_000), key="shared")
    withdrawal_again = post(client, WITHDRAWALS, pay(3_000), key="shared")

    assert (deposit.status_code, withdrawal.status_code) == (201, 201)
    assert (deposit_again.status_code, deposit_again.json()) == (201, deposit.json())
    assert (withdrawal_again.status_code, withdrawal_again.json()) == (201, withdrawal.json())
    assert (DepositIntent.objects.count(), Withdrawal.objects.count(), cash(player)) == (1, 1, 7_000)
    assert_audit_clean()


def test_a_withdrawal_replay_with_another_body_is_a_conflict_and_moves_nothing():
    player = verified_player(10_000)
    client = client_of(player)
    post(client, WITHDRAWALS, pay(3_000), key="w")
    before = ledger_rows()

    assert error_of(post(client, WITHDRAWALS, pay(3_000, provider="other"), key="w")) == (409, "DUPLICATE_TRANSACTION")
    assert (ledger_rows(), Withdrawal.objects.count(), cash(player)) == (before, 1, 7_000)


@pytest.mark.parametrize("block", ["self_excluded", "frozen"])
def test_a_self_excluded_or_frozen_player_cannot_start_a_deposit(block):
    player = verified_player()
    if block == "self_excluded":
        compliance.self_exclude(player=player, period="6m")
    else:
        accounts.set_player_status(player_id=player.pk, status=PlayerStatus.FROZEN)

    answer = post(client_of(player), DEPOSITS, pay())

    assert error_of(answer) == (403, "PLAYER_BLOCKED")
    assert DepositIntent.objects.count() == 0


def test_a_deposit_at_the_providers_minimum_and_maximum_is_taken():
    client = client_of(verified_player())
    assert post(client, DEPOSITS, pay(1_000), key="min").status_code == 201
    assert post(client, DEPOSITS, pay(1_000_000), key="max").status_code == 201


def test_a_deposit_within_the_limit_is_taken_and_the_first_past_it_says_what_remains():
    player = verified_player()
    compliance.set_limit(player=player, kind="deposit", period="24h", amount=8_000)
    client = client_of(player)

    at_limit = post(client, DEPOSITS, pay(8_000), key="a")
    over = post(client, DEPOSITS, pay(1_000), key="b")

    assert at_limit.status_code == 201
    assert error_of(over) == (403, "LIMIT_REACHED")
    assert over.json()["error"]["remaining"] == 0
    assert DepositIntent.objects.count() == 1


def test_a_self_excluded_player_can_withdraw_through_the_api():
    player = verified_player(10_000)
    compliance.self_exclude(player=player, period="6m")

    answer = post(client_of(player), WITHDRAWALS, pay(10_000))

    assert (answer.status_code, answer.json()["status"], cash(player)) == (201, "approved", 0)
    assert_audit_clean()


def test_a_withdrawal_is_read_back_with_exactly_the_contracts_fields():
    player = verified_player(10_000)
    client = client_of(player)
    withdrawal_id = post(client, WITHDRAWALS, pay(4_000)).json()["withdrawal_id"]
    withdrawal = Withdrawal.objects.get()

    answer = client.get(f"{WITHDRAWALS}/{withdrawal_id}")

    assert answer.status_code == 200
    assert answer.json() == {
        "withdrawal_id": withdrawal_id, "status": "approved", "amount": 4_000, "currency": "EUR",
        "created_at": withdrawal.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": withdrawal.updated_at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    assert error_of(client.get(f"{WITHDRAWALS}/wd_nothing")) == (404, "NOT_FOUND")


def test_a_cancellation_answers_the_whole_withdrawal_and_the_money_is_back():
    player = verified_player(500_000)
    client = client_of(player)
    withdrawal_id = post(client, WITHDRAWALS, pay(200_000)).json()["withdrawal_id"]
    assert cash(player) == 300_000

    answer = client.post(f"{WITHDRAWALS}/{withdrawal_id}/cancel")

    assert answer.status_code == 200
    assert answer.json() == client.get(f"{WITHDRAWALS}/{withdrawal_id}").json()
    assert (answer.json()["withdrawal_id"], answer.json()["status"], answer.json()["amount"]) == (
        withdrawal_id, "cancelled", 200_000,
    )  # fmt: skip
    assert cash(player) == 500_000
    assert_audit_clean()


def test_the_deposit_list_rows_have_exactly_the_detail_fields():
    player = verified_player()
    client = client_of(player)
    deposit_id = post(client, DEPOSITS, pay()).json()["deposit_id"]

    listed = client.get(DEPOSITS).json()

    assert listed == {"results": [client.get(f"{DEPOSITS}/{deposit_id}").json()], "next_cursor": None}
    assert sorted(listed["results"][0]) == ["amount", "created_at", "currency", "deposit_id", "status", "updated_at"]


def test_the_withdrawal_list_pages_newest_first_with_the_cursor(monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    player = verified_player(10_000)
    client = client_of(player)
    ids = [post(client, WITHDRAWALS, pay(1_000 + n), key=f"k{n}").json()["withdrawal_id"] for n in range(3)]

    first = client.get(WITHDRAWALS).json()
    second = client.get(WITHDRAWALS, {"cursor": first["next_cursor"]}).json()

    assert [row["withdrawal_id"] for row in first["results"]] == [ids[2], ids[1]]
    assert isinstance(first["next_cursor"], str)
    assert ([row["withdrawal_id"] for row in second["results"]], second["next_cursor"]) == ([ids[0]], None)
    assert error_of(client.get(WITHDRAWALS, {"cursor": "0"})) == (400, "INVALID_REQUEST")


@pytest.mark.parametrize("exclusion", ["self_exclusion", "time_out"])
def test_an_excluded_player_logs_in_again_and_withdraws_but_cannot_deposit(exclusion):
    from apps.accounts.tests.factories import PASSWORD

    player = verified_player(10_000)
    if exclusion == "self_exclusion":
        compliance.self_exclude(player=player, period="6m")
    else:
        compliance.start_time_out(player=player, hours=24)
    client = APIClient()
    login = client.post(
        "/api/player/v1/auth/login", {"username": player.user.username, "password": PASSWORD}, format="json"
    )
    assert login.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['token']}")

    withdrawal = post(client, WITHDRAWALS, pay(4_000), key="w")
    deposit = post(client, DEPOSITS, pay(4_000), key="d")

    assert (withdrawal.status_code, withdrawal.json()["status"]) == (201, "approved")
    assert error_of(deposit) == (403, "PLAYER_BLOCKED")
    assert (cash(player), DepositIntent.objects.count()) == (6_000, 0)
    assert_audit_clean()
