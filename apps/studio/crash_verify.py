"""The crash room's verifier (docs/crash-room.md, "Verifier"): recomputes revealed rounds from
their seeds with the public algorithm (crash.py) and checks the chain, for `manage.py
crash_verify` and the public page /studio/crash/verify/. Reads only what is public: the
commitments, the revealed seeds and the stored crash points."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.studio import crash
from apps.studio.models import CrashChain, CrashPhase, CrashRound


@dataclass
class Report:
    verified: int = 0
    mismatches: list[str] = field(default_factory=list)


def _seed(round_: CrashRound) -> bytes | None:
    try:
        seed = bytes.fromhex(round_.seed)
    except ValueError:
        return None
    return seed if len(seed) == crash.SEED_BYTES else None


def _problems(round_: CrashRound, below: dict[int, tuple[int, bytes]]) -> list[str]:
    """What does not hold for this round (nothing: it verifies); `below` is, per chain, the
    index and seed of the round checked last, moved up when this one links to it."""
    seed = _seed(round_)
    if seed is None:
        return [f"the seed {round_.seed!r} is not 32 bytes of hex"]
    problems = []
    computed = crash.crash_point(seed)
    if computed != round_.crash_x100:
        problems.append(f"stored crash {round_.crash_x100}, recomputed {computed} from its seed")
    known_index, known_seed = below.get(round_.chain_id, (0, bytes.fromhex(round_.chain.commitment)))
    steps = round_.chain_index - known_index
    if crash.hash_times(seed, steps) != known_seed:
        where = "the commitment" if known_index == 0 else f"the seed of chain index {known_index}"
        problems.append(f"its seed does not hash {steps} times to {where}")
    else:
        below[round_.chain_id] = (round_.chain_index, seed)
    return problems


def verify_rounds(last: int | None = None) -> Report:
    """The last `last` crashed rounds (all by default), oldest first per chain: each crash point
    recomputed from its seed; each seed hashed to the previous round's seed and, through it, to
    the chain's commitment. A run of consecutive rounds costs one hash each: only the first round
    of the run (or one after a gap) is hashed down to the commitment or to the seed below it."""
    rounds = CrashRound.objects.filter(phase=CrashPhase.CRASHED).select_related("chain").order_by("-number")
    if last is not None:
        rounds = rounds[:last]
    report = Report()
    below: dict[int, tuple[int, bytes]] = {}  # chain id -> (index, seed) of the round checked before
    for round_ in sorted(rounds, key=lambda r: (r.chain_id, r.chain_index)):
        report.verified += 1
        problems = _problems(round_, below)
        if problems:
            report.mismatches.append(f"round {round_.number}: " + "; ".join(problems))
    return report


@dataclass(frozen=True)
class Check:
    """The public check of one seed: where it sits in the chain and what it crashes at."""

    seed: str
    commitment: str
    chain_index: int | None
    links_to_commitment: bool
    crash_x100: int
    stored_crash_x100: int | None
    round_number: int | None


def check(query: str) -> Check | None:
    """A round number or a seed (hex) → its check; None when there is no such revealed round and
    the text is not a seed. A seed that no crashed round revealed gets its crash point only."""
    query = query.strip().lower()
    round_ = None
    if query.isdigit():
        round_ = CrashRound.objects.select_related("chain").filter(number=int(query), phase=CrashPhase.CRASHED).first()
        if round_ is None:
            return None
        query = round_.seed
    else:
        round_ = CrashRound.objects.select_related("chain").filter(seed=query, phase=CrashPhase.CRASHED).first()
    try:
        seed = bytes.fromhex(query)
    except ValueError:
        return None
    if len(seed) != crash.SEED_BYTES:
        return None
    if round_ is not None:
        commitment, index = round_.chain.commitment, round_.chain_index
        links = crash.seed_reaches_commitment(seed, index, commitment)
    else:  # not a revealed seed: its crash point, but no place in the chain (no walk on a public page)
        chain = CrashChain.objects.order_by("-pk").first()
        commitment, index, links = (chain.commitment if chain else ""), None, False
    return Check(
        seed=seed.hex(),
        commitment=commitment,
        chain_index=index,
        links_to_commitment=links,
        crash_x100=crash.crash_point(seed),
        stored_crash_x100=round_.crash_x100 if round_ is not None else None,
        round_number=round_.number if round_ is not None else None,
    )


def recent_rounds(limit: int = 50) -> list[CrashRound]:
    return list(CrashRound.objects.filter(phase=CrashPhase.CRASHED).select_related("chain").order_by("-number")[:limit])
