"""The slot's and the roulette's pages for a launched session (docs/studio.md, "Pages"): what they
show is what the session's jurisdiction rules allow, and they may be framed by PAM's site."""

from __future__ import annotations

import re

import httpx
import pytest

from apps.studio.models import Session
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_slot_page_renders_for_a_launched_session(studio):
    page = studio.launch(funded_player(2_500), "pam-slot", min_cycle_ms=2500, autoplay=True, session_info=True)

    assert page.status_code == 200
    html = page.text
    session = Session.objects.get()
    assert session.min_cycle_ms == 2500
    key = re.search(r'data-session-key="([^"]+)"', html).group(1)
    assert f'data-api="/studio/api/sessions/{key}/rounds"' in html
    assert 'data-balance="2500"' in html
    assert 'data-currency="EUR"' in html
    assert len(re.findall(r"<td data-row=", html)) == 15
    assert '<button id="spin" type="button" disabled>Spin</button>' in html
    assert '<label for="stake">' in html
    assert 'id="autoplay"' in html
    assert 'id="session-bar"' in html
    assert 'role="status"' in html
    assert 'role="alert"' in html
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"
    script = httpx.get(f"{studio.url}/static/studio/play.js")
    assert script.status_code == 200
    assert "StudioPlay" in script.text


def test_the_roulette_page_renders_its_board(studio):
    page = studio.launch(funded_player(1_000), "pam-roulette", autoplay=False, session_info=False)

    assert page.status_code == 200
    html = page.text
    straights = re.findall(r'data-kind="straight" data-numbers="(\d+)"', html)
    assert sorted(map(int, straights)) == list(range(37))
    for kind in ("red", "black", "odd", "even", "low", "high"):
        assert f'data-kind="{kind}"' in html
    assert re.findall(r'data-kind="dozen" data-numbers="(\d)"', html) == ["1", "2", "3"]
    assert sorted(re.findall(r'data-kind="column" data-numbers="(\d)"', html)) == ["1", "2", "3"]
    assert 'id="pocket"' in html
    assert 'role="group"' in html
    # Neither autoplay nor the session bar where the jurisdiction does not have them.
    assert 'id="autoplay"' not in html
    assert 'id="session-bar"' not in html
