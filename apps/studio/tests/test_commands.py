from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.studio.management.commands import rng_dump


def test_rng_dump_bytes_writes_exactly_n_bytes_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(rng_dump, "BYTES_CHUNK", 1000)  # several chunks and a short last one
    out = tmp_path / "raw.bin"
    call_command("rng_dump", "--bytes", "12345", str(out))
    data = out.read_bytes()
    assert len(data) == 12345
    assert len(set(data)) > 200  # nearly every byte value appears in 12 kB of random bytes

    call_command("rng_dump", "--bytes", "0", str(out))
    assert out.read_bytes() == b""


def test_rng_dump_game_writes_one_pocket_per_line(tmp_path, monkeypatch):
    monkeypatch.setattr(rng_dump, "ROUNDS_CHUNK", 700)
    out = tmp_path / "roulette.txt"
    call_command("rng_dump", "--game", "pam-roulette", "--rounds", "5000", str(out))
    lines = out.read_text().splitlines()
    assert len(lines) == 5000
    pockets = [int(line) for line in lines]
    assert all(0 <= p <= 36 for p in pockets)
    assert len(set(pockets)) == 37


def test_a_tuple_outcome_is_written_space_separated():
    assert rng_dump._line((3, 0, 17, 9, 21)) == "3 0 17 9 21"
    assert rng_dump._line(5) == "5"


@pytest.mark.parametrize(
    "arguments",
    [
        ["--game", "no-such-game", "--rounds", "10"],
        ["--game", "pam-roulette"],
        ["--bytes", "-1"],
        ["--bytes", "10", "--rounds", "10"],
    ],
)
def test_rng_dump_refuses(tmp_path, arguments):
    with pytest.raises(CommandError):
        call_command("rng_dump", *arguments, str(tmp_path / "out"))


def test_game_rtp_prints_the_exact_fraction_last():
    out = StringIO()
    call_command("game_rtp", "pam-roulette", stdout=out)
    assert out.getvalue().splitlines()[-1] == "36/37 0.9729729730"


def test_game_rtp_refuses_an_unknown_game():
    with pytest.raises(CommandError):
        call_command("game_rtp", "no-such-game", stdout=StringIO())


def test_rng_dump_writes_the_slots_five_stop_positions_per_line(tmp_path):
    from apps.studio import catalogue

    strips = catalogue.get("pam-slot").config.reels
    target = tmp_path / "slot.txt"

    call_command("rng_dump", "--game", "pam-slot", "--rounds", "500", str(target), stdout=StringIO())

    lines = target.read_text().splitlines()
    assert len(lines) == 500
    for line in lines:
        stops = [int(value) for value in line.split(" ")]
        assert len(stops) == 5
        assert all(0 <= stop < len(strip) for stop, strip in zip(stops, strips, strict=True))


def test_game_rtp_of_the_slot_is_its_enumeration_and_equals_the_declared_one():
    from fractions import Fraction

    from apps.studio import catalogue, slot

    out = StringIO()
    call_command("game_rtp", "pam-slot", stdout=out)

    fraction, decimal = out.getvalue().strip().splitlines()[-1].split(" ")
    enumerated = slot.enumerate_rtp(catalogue.get("pam-slot").config)
    assert Fraction(fraction) == enumerated == catalogue.get("pam-slot").declared_rtp
    assert abs(float(decimal) - float(enumerated)) < 1e-9
