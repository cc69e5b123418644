"""The launch URL's page refuses, with a stable code and without calling the wallet, a launch whose
signature does not hold or a game the studio does not have."""

import pytest
from django.conf import settings

from apps.common import launch

PARAMS = {"token": "t0k", "jurisdiction": "ukgc", "min_cycle_ms": "2500", "autoplay": "0", "session_info": "1"}

pytestmark = pytest.mark.django_db


def test_an_edited_launch_is_refused(client):
    query = launch.signed_query(settings.STUDIO_PROVIDER_SECRET, "pam-slot", PARAMS)
    answer = client.get("/studio/play/pam-slot/?" + query.replace("min_cycle_ms=2500", "min_cycle_ms=0"))
    assert answer.status_code == 403
    assert b'data-code="LAUNCH_INVALID"' in answer.content


def test_an_unknown_game_is_refused(client):
    query = launch.signed_query(settings.STUDIO_PROVIDER_SECRET, "no-such-game", PARAMS)
    answer = client.get("/studio/play/no-such-game/?" + query)
    assert answer.status_code == 404
    assert b'data-code="UNKNOWN_GAME"' in answer.content
