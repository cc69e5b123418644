"""The studio evidence benchmarks' own arithmetic (bench/slot_rtp.py, bench/rng.py): what `make
bench` prints is only worth its verdicts. No timing is asserted; the benchmarks print it."""

from fractions import Fraction

from bench import rng as rng_bench
from bench import slot_rtp


def test_slot_totals_do_not_depend_on_the_number_of_processes(monkeypatch):
    # Small chunks, so that two processes really share them out (fork, as the benchmark runs).
    monkeypatch.setattr(slot_rtp, "CHUNK", 500)
    alone = slot_rtp.simulate(2_300, seed=7, processes=1)
    shared = slot_rtp.simulate(2_300, seed=7, processes=2)
    assert alone == shared
    assert alone.rounds == 2_300
    assert alone.staked == 2_300 * slot_rtp.LINE_STAKE * 10
    assert slot_rtp.simulate(2_300, seed=8, processes=1) != alone  # the seed matters


def test_slot_chunks_have_distinct_seeds():
    seeds = {slot_rtp.chunk_seed(1, index) for index in range(1_000)}
    assert len(seeds) == 1_000
    assert slot_rtp.chunk_seed(1, 0) != slot_rtp.chunk_seed(2, 0)


def test_slot_verdict_is_exact_at_the_interval_s_edge():
    mean, variance, n = Fraction(1, 2), Fraction(1, 4), 1
    edge = mean + slot_rtp.Z_99 * Fraction(1, 2)  # RTP + 2.576 sigma / sqrt(1), exactly
    assert slot_rtp.Verdict(mean, variance, n, edge).inside
    assert slot_rtp.Verdict(mean, variance, n, mean - slot_rtp.Z_99 / 2).inside
    assert not slot_rtp.Verdict(mean, variance, n, edge + Fraction(1, 10**12)).inside
    assert not slot_rtp.Verdict(mean, variance, 4, edge).inside  # four times the rounds halve the width


DIEHARDER_OUTPUT = """\
#=============================================================================#
#            dieharder version 3.31.1 Copyright 2003 Robert G. Brown          #
#=============================================================================#
   rng_name    |           filename             |rands/second|
 file_input_raw|                       dump.bin|  6.23e+07  |
#=============================================================================#
        test_name   |ntup| tsamples |psamples|  p-value |Assessment
#=============================================================================#
# The file file_input_raw was rewound 2 times
        diehard_runs|   0|    100000|     100|0.72952078|  PASSED
        diehard_runs|   0|    100000|     100|0.99685286|   WEAK
"""


def test_dieharder_rows_and_rewinds_are_read():
    outcome = rng_bench.parse(15, DIEHARDER_OUTPUT)
    assert outcome.rows == [("diehard_runs", 0, 0.72952078, "PASSED"), ("diehard_runs", 0, 0.99685286, "WEAK")]
    assert outcome.rewinds == 2
    assert not outcome.error


def test_dieharder_output_without_a_result_is_an_error():
    outcome = rng_bench.parse(999, "dieharder: test 999 does not exist\n")
    assert outcome.rows == []
    assert outcome.error
