"""One-time WebSocket tickets: the service, the player API endpoint and the sandbox command."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_player, make_staff
from apps.realtime import services
from apps.realtime.models import RealtimeTicket

LOGIN = "/api/player/v1/auth/login"
TICKET = "/api/player/v1/realtime/ticket"
pytestmark = pytest.mark.django_db


# --- services ------------------------------------------------------------------------------------


def test_a_ticket_redeems_once_for_its_player():
    player = make_player(username="ann")
    ticket = services.issue_ticket(player=player)

    redeemed = services.redeem_ticket(ticket=ticket)

    assert redeemed == player
    assert redeemed.user.username == "ann"
    assert services.redeem_ticket(ticket=ticket) is None


def test_only_the_hash_is_stored_and_the_ticket_lives_sixty_seconds():
    player = make_player()
    before = timezone.now()
    ticket = services.issue_ticket(player=player)

    row = RealtimeTicket.objects.get()
    assert row.token_hash != ticket
    assert len(row.token_hash) == 64
    assert row.player_id == player.pk
    assert row.used_at is None
    assert before + dt.timedelta(seconds=60) <= row.expires_at <= timezone.now() + dt.timedelta(seconds=60)
    assert len(ticket) == 43  # token_urlsafe(32)


def test_a_redeemed_ticket_records_when():
    ticket = services.issue_ticket(player=make_player())
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=5), tick=False):
        services.redeem_ticket(ticket=ticket)
        assert RealtimeTicket.objects.get().used_at == timezone.now()


def test_a_ticket_expires_after_sixty_seconds():
    player = make_player()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        late, in_time = services.issue_ticket(player=player), services.issue_ticket(player=player)
    with time_machine.travel(start + dt.timedelta(seconds=59), tick=False):
        assert services.redeem_ticket(ticket=in_time) == player
    with time_machine.travel(start + dt.timedelta(seconds=60), tick=False):
        assert services.redeem_ticket(ticket=late) is None
    assert RealtimeTicket.objects.filter(used_at__isnull=True).count() == 1  # the expired one stays unused


@pytest.mark.parametrize(
    "garbage",
    ["", "not-a-ticket", "é" * 43, "tick\x00et", "\n", "x" * 10_000, "🎰", "a b\tc", "\ud800"],
)
def test_a_garbage_ticket_is_none_and_never_raises(garbage):
    services.issue_ticket(player=make_player())
    assert services.redeem_ticket(ticket=garbage) is None
    assert RealtimeTicket.objects.get().used_at is None


def test_a_ticket_of_a_deactivated_user_is_refused():
    player = make_player()
    ticket = services.issue_ticket(player=player)
    player.user.is_active = False
    player.user.save(update_fields=["is_active"])

    assert services.redeem_ticket(ticket=ticket) is None


# --- POST /api/player/v1/realtime/ticket ---------------------------------------------------------


def test_endpoint_with_bearer_token(api_client):
    player = make_player(username="ann")
    token = api_client.post(LOGIN, {"username": "ann", "password": PASSWORD}, format="json").json()["token"]

    response = api_client.post(TICKET, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 201
    assert set(response.json()) == {"ticket", "expires_in"}
    assert response.json()["expires_in"] == 60
    assert services.redeem_ticket(ticket=response.json()["ticket"]) == player


def test_endpoint_with_session(api_client):
    player = make_player()
    api_client.force_login(player.user)

    response = api_client.post(TICKET)

    assert response.status_code == 201
    assert response.json()["expires_in"] == 60
    assert services.redeem_ticket(ticket=response.json()["ticket"]) == player


def test_each_call_gives_a_new_ticket(api_client):
    player = make_player()
    api_client.force_login(player.user)

    first, second = api_client.post(TICKET).json()["ticket"], api_client.post(TICKET).json()["ticket"]

    assert first != second
    assert RealtimeTicket.objects.filter(player=player).count() == 2


def test_endpoint_refuses_staff(api_client):
    api_client.force_login(make_staff(StaffRole.ADMIN))

    response = api_client.post(TICKET)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NOT_A_PLAYER"
    assert RealtimeTicket.objects.exists() is False


def test_endpoint_unauthenticated_is_401(api_client):
    response = api_client.post(TICKET)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"
    assert RealtimeTicket.objects.exists() is False


def test_endpoint_with_a_bad_bearer_token_is_401(api_client):
    response = api_client.post(TICKET, HTTP_AUTHORIZATION="Bearer nope")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_endpoint_is_post_only(api_client):
    api_client.force_login(make_player().user)

    response = api_client.get(TICKET)

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


# --- manage.py realtime_ticket -------------------------------------------------------------------


def test_command_prints_a_ticket_that_redeems():
    player = make_player(username="ann")
    out = io.StringIO()

    call_command("realtime_ticket", "ann", stdout=out)

    ticket = out.getvalue().splitlines()[-1]
    assert services.redeem_ticket(ticket=ticket) == player


def test_command_refuses_an_unknown_player():
    make_staff(StaffRole.ADMIN, username="root")  # a user, but not a player
    with pytest.raises(CommandError, match="no player 'root'"):
        call_command("realtime_ticket", "root", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no player 'nobody'"):
        call_command("realtime_ticket", "nobody", stdout=io.StringIO())
    assert RealtimeTicket.objects.exists() is False
