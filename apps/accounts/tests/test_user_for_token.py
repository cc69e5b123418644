"""`get_user_for_token`: the Bearer authentication's look-up. One statement reads the user and its
player; a token that is unknown, expired or revoked, or whose user is inactive, finds no one."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings

from apps.accounts import selectors, services
from apps.accounts.choices import StaffRole
from apps.accounts.models import Player, User
from apps.accounts.tests.factories import make_player, make_staff

pytestmark = pytest.mark.django_db


def fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_a_live_token_reads_its_user_and_player_as_the_orm_does(django_assert_num_queries):
    player = make_player()
    token = services.issue_token(player.user)

    with django_assert_num_queries(1):
        user = selectors.get_user_for_token(token)
        found = user.player  # read with the user: no query of its own

    assert fields(user) == fields(User.objects.get(pk=player.user_id))
    assert fields(found) == fields(Player.objects.get(pk=player.pk))
    assert found.user is user
    assert user.is_authenticated


def test_a_staff_users_token_has_no_player():
    staff = make_staff(StaffRole.SUPPORT)
    token = services.issue_token(staff)

    user = selectors.get_user_for_token(token)

    assert user == staff
    with pytest.raises(Player.DoesNotExist):
        user.player  # noqa: B018 - the accessor is what is tested


def test_no_one_for_an_unknown_expired_or_revoked_token_or_an_inactive_user():
    player, other = make_player(), make_player()
    expired, revoked, inactive = (services.issue_token(p.user) for p in (player, player, other))
    services.revoke_token(revoked)
    User.objects.filter(pk=other.user_id).update(is_active=False)

    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + settings.AUTH_TOKEN_TTL + dt.timedelta(seconds=1)):
        assert selectors.get_user_for_token(expired) is None
    assert selectors.get_user_for_token("pam_unknown") is None
    assert selectors.get_user_for_token(revoked) is None
    assert selectors.get_user_for_token(inactive) is None
