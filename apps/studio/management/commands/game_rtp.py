from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from django.core.management.base import BaseCommand, CommandError

from apps.studio import catalogue


def exact_line(value) -> str:
    """`36/37 0.9729729730`: the exact fraction, then its decimal rounded to 10 places."""
    with localcontext() as context:
        context.prec = 60
        decimal = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
            Decimal("1e-10"), rounding=ROUND_HALF_EVEN
        )
    return f"{value.numerator}/{value.denominator} {decimal}"


class Command(BaseCommand):
    help = "Print a studio game's enumerated RTP; the last line is the exact fraction and its decimal."

    def add_arguments(self, parser):
        parser.add_argument("code")

    def handle(self, *args, code, **options):
        game = catalogue.get(code)
        if game is None:
            raise CommandError(f"unknown game {code!r}; known: {', '.join(sorted(catalogue.GAMES))}")
        enumerated = game.enumerated_rtp()
        self.stdout.write(f"{game.code} ({game.name}, {game.game_type})")
        self.stdout.write(f"declared   {exact_line(game.declared_rtp)}")
        self.stdout.write(exact_line(enumerated))
