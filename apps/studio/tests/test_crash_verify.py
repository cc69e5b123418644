"""The crash room's verifier: `manage.py crash_verify` and the public page recompute revealed rounds
from their seeds and check them against the chain; tampering is found. Rounds are played here
through the room's own services, without a runner."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.studio import crash, crash_room
from apps.studio.models import CrashChain, CrashRound, Session

pytestmark = pytest.mark.django_db


def play(rounds: int) -> list[CrashRound]:
    played = []
    for _ in range(rounds):
        round_ = crash_room.open_round()[0]
        assert crash_room.start_round(round_)
        assert crash_room.crash_round(round_)
        played.append(round_)
    return played


def verify(*args: str) -> tuple[int | None, list[str]]:
    out = StringIO()
    try:
        call_command("crash_verify", *args, stdout=out)
        code = None
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue().splitlines()


@pytest.fixture(autouse=True)
def _short_chains(settings):
    settings.STUDIO_CRASH_CHAIN_LENGTH = 3
    settings.STUDIO_CRASH_BETTING_MS = 1000


def test_rounds_recompute_across_chains_with_no_mismatch():
    played = play(5)
    assert [r.number for r in played] == [1, 2, 3, 4, 5]
    assert [r.chain_index for r in played] == [1, 2, 3, 1, 2]  # a new chain after three rounds
    chains = list(CrashChain.objects.order_by("pk"))
    assert len(chains) == 2
    assert chains[0].commitment != chains[1].commitment
    for round_ in CrashRound.objects.select_related("chain"):
        seed = bytes.fromhex(round_.seed)
        assert crash.crash_point(seed) == round_.crash_x100
        assert crash.seed_reaches_commitment(seed, round_.chain_index, round_.chain.commitment)
    assert verify() == (None, ["verified 5 rounds, 0 mismatches"])
    assert verify("--rounds", "2") == (None, ["verified 2 rounds, 0 mismatches"])
    open_ = crash_room.open_round()[0]  # not crashed: not revealed, not verified
    assert open_.seed == ""
    assert verify()[1][-1] == "verified 5 rounds, 0 mismatches"


def test_a_tampered_crash_point_or_seed_is_a_mismatch():
    played = play(3)
    CrashRound.objects.filter(pk=played[1].pk).update(crash_x100=played[1].crash_x100 + 1)
    code, lines = verify()
    assert code == 1
    assert lines[-1] == "verified 3 rounds, 1 mismatches"
    assert lines[0].startswith("MISMATCH round 2: stored crash")

    # A random seed whose crash point is not the stored one: one in a few dozen would crash at the
    # same point (1.00x most often), and the verifier would then rightly name only the broken chain.
    other = crash.new_terminal_seed()
    while crash.crash_point(other) == played[2].crash_x100:
        other = crash.new_terminal_seed()
    CrashRound.objects.filter(pk=played[2].pk).update(seed=other.hex())
    code, lines = verify()
    assert code == 1
    assert lines[-1] == "verified 3 rounds, 2 mismatches"
    assert lines[1].startswith("MISMATCH round 3: stored crash")
    assert "its seed does not hash 1 times to the seed of chain index 2" in lines[1]


def test_the_verify_page(client):
    played = play(2)
    open_ = crash_room.open_round()[0]
    chain = CrashChain.objects.get()
    page = client.get("/studio/crash/verify/")
    assert page.status_code == 200
    html = page.content.decode()
    assert chain.commitment in html
    assert chain.terminal_seed not in html
    for round_ in played:
        assert CrashRound.objects.get(pk=round_.pk).seed in html
    assert f'data-round="{open_.number}"' not in html  # not crashed: not listed
    assert crash_room.seeds_of(chain).seed(open_.chain_index).hex() not in html

    checked = client.get("/studio/crash/verify/", {"q": str(played[1].number)}).content.decode()
    assert f'data-crash="{played[1].crash_x100}"' in checked
    assert 'data-match="yes"' in checked
    assert 'data-chain="yes"' in checked
    by_seed = client.get("/studio/crash/verify/", {"q": played[0].seed.upper()}).content.decode()
    assert f"Round {played[0].number}" in by_seed
    assert 'data-chain="yes"' in by_seed

    unknown_seed = crash.new_terminal_seed()
    answer = client.get("/studio/crash/verify/", {"q": unknown_seed.hex()}).content.decode()
    assert f'data-crash="{crash.crash_point(unknown_seed)}"' in answer
    assert 'data-chain="unknown"' in answer
    for query in ("999", "not-a-seed", str(open_.number)):
        refused = client.get("/studio/crash/verify/", {"q": query})
        assert refused.status_code == 404, query
        assert b'data-code="NOT_FOUND"' in refused.content


def test_a_zero_window_opens_rounds_running_and_takes_no_bet(settings):
    settings.STUDIO_CRASH_BETTING_MS = 0
    round_, opened = crash_room.open_round()
    assert opened
    assert round_.phase == "running"
    assert round_.started_at == round_.betting_closes_at
    assert crash_room.open_round() == (round_, False)  # open already: no second round
    session = Session.objects.create(
        key_hash="1" * 64, player_id="1", currency="EUR", game_code="pam-crash", opened_at=timezone.now()
    )
    with pytest.raises(crash_room.Refused) as refused:
        crash_room._claim_bet(session, 100)
    assert refused.value.code == "BETTING_CLOSED"
    assert crash_room.crash_round(round_).results == []
