"""`manage.py create_player`: the sandbox's player, created by accounts and funded by the wallet."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import Brand, Player, User
from apps.compliance.models import StaffAction
from apps.wallet import selectors
from apps.wallet.models import Transaction

pytestmark = pytest.mark.django_db
PASSWORD = "sandbox-horse-42"


def create_player(*args: str) -> list[str]:
    out = StringIO()
    call_command("create_player", *args, stdout=out)
    return out.getvalue().splitlines()


def test_creates_the_player_and_prints_their_id_last():
    lines = create_player("sandy", "--password", PASSWORD, "--currency", "USD")

    player = Player.objects.get(user__username="sandy")
    assert lines[-1] == player.public_id
    assert (player.brand.code, player.currency_id) == ("sandbox", "USD")
    assert Transaction.objects.exists() is False


def test_balance_is_an_operator_adjustment_recorded_as_a_staff_action():
    create_player("sandy", "--password", PASSWORD, "--balance", "500")

    player = Player.objects.get(user__username="sandy")
    assert selectors.get_wallet_state(player.pk).balance == 500
    tx = Transaction.objects.get()
    assert (tx.kind, tx.amount, tx.reason, tx.acting_user) == ("adjustment", 500, "sandbox set-up", None)
    action = StaffAction.objects.get()
    assert (action.action, action.actor, action.reason) == ("wallet.adjust", None, "sandbox set-up")


def test_run_again_it_finds_the_player_and_credits_again():
    first = create_player("sandy", "--password", PASSWORD, "--balance", "500")
    again = create_player("sandy", "--password", "another-password-99", "--balance", "250")

    assert again[-1] == first[-1]
    player = Player.objects.get(user__username="sandy")
    assert player.user.check_password(PASSWORD)  # found, not changed
    assert selectors.get_wallet_state(player.pk).balance == 750


def test_a_negative_balance_is_refused_before_anything_is_written():
    with pytest.raises(CommandError, match="--balance"):
        create_player("sandy", "--password", PASSWORD, "--balance", "-5")

    assert User.objects.filter(username="sandy").exists() is False
    assert Brand.objects.filter(code="sandbox").exists() is False
    assert Transaction.objects.exists() is False


def test_a_refused_registration_is_a_command_error_with_its_code():
    with pytest.raises(CommandError, match=r"^UNKNOWN_CURRENCY: "):
        create_player("sandy", "--password", PASSWORD, "--currency", "XXX", "--balance", "500")

    assert User.objects.filter(username="sandy").exists() is False
    assert Transaction.objects.exists() is False
