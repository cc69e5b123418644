"""A round on PAM as `make serve` runs it: a uvicorn process (pam.asgi) that serves the studio and
is, at the same time, the wallet the studio calls (STUDIO_WALLET_URL is its own address, the
default). Its recovery runs from the command line, as an operator would run it."""

from __future__ import annotations

import threading

import httpx
import pytest
from django.conf import settings

from apps.common import launch
from apps.games.services import issue_launch_token, save_provider
from apps.studio.models import Round, RoundState
from apps.studio.tests.support import KEY, ledger
from apps.wallet.tests.factories import funded_player
from tests.realtime.support import server_env, start_server, stop_server
from tests.support import PYTHON, free_port, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_rounds_on_a_served_pam_that_is_its_own_wallet(tmp_path):
    provider = save_provider(code=settings.STUDIO_PROVIDER_CODE, secret=settings.STUDIO_PROVIDER_SECRET)
    player = funded_player(10_000)
    token = issue_launch_token(player=player, provider=provider)
    params = {"token": token, "jurisdiction": "mt", "min_cycle_ms": "0", "autoplay": "1", "session_info": "1"}
    query = launch.signed_query(settings.STUDIO_PROVIDER_SECRET, "pam-roulette", params)
    port = free_port()
    secret = {"STUDIO_PROVIDER_SECRET": settings.STUDIO_PROVIDER_SECRET, "PORT": str(port)}
    server = start_server(tmp_path, "studio", port=port, **secret)
    try:
        page = httpx.get(f"{server.http}/studio/play/pam-roulette/?{query}", timeout=30)
        assert page.status_code == 200, page.text
        api = f"{server.http}/studio/api/sessions/{KEY.search(page.text).group(1)}/rounds"
        body = {"request_id": "served", "bets": [{"kind": "odd", "numbers": [], "stake": 100}]}
        answers: list[httpx.Response] = []
        start = threading.Barrier(4)

        def send() -> None:
            start.wait(timeout=30)
            answers.append(httpx.post(api, json=body, timeout=60))

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        stop_server(server)

    assert [a.status_code for a in answers] == [200] * 4
    round_ = Round.objects.get()
    assert round_.state == RoundState.SETTLED
    assert ledger(round_.round_id) == [("bet", -100), ("win", round_.payout)]

    recovered = run([PYTHON, "manage.py", "studio_recover"], env=server_env(**secret))
    assert recovered.returncode == 0, recovered.stderr
    assert recovered.stdout.splitlines()[-1] == "0"


def test_more_rounds_at_once_than_the_servers_http_threads_all_settle(tmp_path):
    """The studio's views wait on the wallet, this very server: they run on the event loop (the
    ASGI handler, pam/asgi.py), not on the HTTP thread pool the wallet's views need, so rounds
    outnumbering the pool's threads cannot starve their own wallet calls."""
    provider = save_provider(code=settings.STUDIO_PROVIDER_CODE, secret=settings.STUDIO_PROVIDER_SECRET)
    rounds, threads_in_pool = 8, 2
    queries = []
    for _ in range(rounds):
        token = issue_launch_token(player=funded_player(10_000), provider=provider)
        params = {"token": token, "jurisdiction": "mt", "min_cycle_ms": "0", "autoplay": "1", "session_info": "0"}
        queries.append(launch.signed_query(settings.STUDIO_PROVIDER_SECRET, "pam-slot", params))
    port = free_port()
    env = {"STUDIO_PROVIDER_SECRET": settings.STUDIO_PROVIDER_SECRET, "PORT": str(port)}
    server = start_server(tmp_path, "studio-pool", port=port, HTTP_THREADS=str(threads_in_pool), **env)
    answers: list[httpx.Response] = []
    try:
        apis = []
        for query in queries:
            page = httpx.get(f"{server.http}/studio/play/pam-slot/?{query}", timeout=30)
            assert page.status_code == 200, page.text
            apis.append(f"{server.http}/studio/api/sessions/{KEY.search(page.text).group(1)}/rounds")
        start = threading.Barrier(rounds)

        def send(api: str) -> None:
            start.wait(timeout=30)
            answers.append(httpx.post(api, json={"request_id": "r1", "stake": 100}, timeout=60))

        threads = [threading.Thread(target=send, args=(api,)) for api in apis]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        stop_server(server)

    assert [a.status_code for a in answers] == [200] * rounds, [a.text for a in answers]
    assert set(Round.objects.values_list("state", flat=True)) == {RoundState.SETTLED}
