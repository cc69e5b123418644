from django.core.management.base import BaseCommand, CommandError

from apps.studio import catalogue, rng

# Bytes written per chunk and outcomes per write: memory stays bounded however large N is.
BYTES_CHUNK = 1 << 20
ROUNDS_CHUNK = 10_000


def _line(outcome) -> str:
    if isinstance(outcome, tuple):
        return " ".join(str(part) for part in outcome)
    return str(outcome)


class Command(BaseCommand):
    help = (
        "Write the production RNG's output for external test batteries: --bytes N raw bytes, or "
        "--game CODE --rounds N, one outcome per line as the game draws it (docs/studio.md)."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--bytes", type=int, dest="n_bytes", help="N raw bytes")
        mode.add_argument("--game", help="a game code of the studio's catalogue")
        parser.add_argument("--rounds", type=int, help="outcomes to draw, with --game")
        parser.add_argument("file")

    def handle(self, *args, n_bytes, game, rounds, file, **options):
        if n_bytes is not None:
            if n_bytes < 0 or rounds is not None:
                raise CommandError("--bytes takes a count of zero or more, and no --rounds")
            with open(file, "wb") as out:
                left = n_bytes
                while left:
                    chunk = min(left, BYTES_CHUNK)
                    out.write(rng.raw_bytes(chunk))
                    left -= chunk
            return
        found = catalogue.get(game)
        if found is None:
            raise CommandError(f"unknown game {game!r}; known: {', '.join(sorted(catalogue.GAMES))}")
        if rounds is None or rounds < 0:
            raise CommandError("--game needs --rounds N (zero or more)")
        with open(file, "w") as out:
            left = rounds
            while left:
                chunk = min(left, ROUNDS_CHUNK)
                out.write("".join(_line(found.draw(rng.SYSTEM)) + "\n" for _ in range(chunk)))
                left -= chunk
