"""The signed launch: what PAM's launch service signs, the studio accepts, and nothing else."""

from urllib.parse import parse_qsl

from apps.common import launch

PARAMS = {"token": "t0k", "jurisdiction": "ukgc", "min_cycle_ms": "2500", "autoplay": "0", "session_info": "1"}


def test_a_signed_query_verifies_for_its_game_only():
    query = dict(parse_qsl(launch.signed_query("secret", "pam-slot", PARAMS)))
    assert launch.verify("secret", "pam-slot", query) == PARAMS
    assert launch.verify("secret", "pam-roulette", query) is None
    assert launch.verify("other", "pam-slot", query) is None


def test_an_edited_or_incomplete_query_is_refused():
    query = dict(parse_qsl(launch.signed_query("secret", "pam-slot", PARAMS)))
    assert launch.verify("secret", "pam-slot", {**query, "min_cycle_ms": "0"}) is None
    assert launch.verify("secret", "pam-slot", {**query, "autoplay": "1"}) is None
    for name in (*launch.PARAMETERS, "sig"):
        assert launch.verify("secret", "pam-slot", {k: v for k, v in query.items() if k != name}) is None
