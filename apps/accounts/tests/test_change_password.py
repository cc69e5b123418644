"""`change_password`: the current password is checked, the new one validated, and every bearer
token of the player stops working with the old password."""

import pytest

from apps.accounts import errors, selectors, services
from apps.accounts.models import AuthToken, User
from apps.accounts.tests.factories import PASSWORD, make_player

pytestmark = pytest.mark.django_db

NEW = "a-much-newer-passphrase-42"


def test_changes_the_password_and_revokes_every_token_of_the_user():
    player, other = make_player(), make_player()
    tokens = [services.issue_token(player.user), services.issue_token(player.user)]
    other_token = services.issue_token(other.user)

    services.change_password(user=player.user, current_password=PASSWORD, new_password=NEW)

    user = User.objects.get(pk=player.user_id)
    assert user.check_password(NEW)
    assert not user.check_password(PASSWORD)
    assert [selectors.get_user_for_token(token) for token in tokens] == [None, None]
    assert selectors.get_user_for_token(other_token) == other.user  # another player's token lives on
    assert AuthToken.objects.filter(user=other.user).count() == 1


def test_a_wrong_current_password_changes_nothing():
    player = make_player()
    token = services.issue_token(player.user)

    with pytest.raises(errors.InvalidCredentials):
        services.change_password(user=player.user, current_password="not-it", new_password=NEW)

    user = User.objects.get(pk=player.user_id)
    assert user.check_password(PASSWORD)
    assert selectors.get_user_for_token(token) == user


def test_a_weak_new_password_changes_nothing():
    player = make_player()
    token = services.issue_token(player.user)

    with pytest.raises(errors.WeakPassword) as refused:
        services.change_password(user=player.user, current_password=PASSWORD, new_password="123")

    assert refused.value.details["reasons"]
    user = User.objects.get(pk=player.user_id)
    assert user.check_password(PASSWORD)
    assert selectors.get_user_for_token(token) == user
