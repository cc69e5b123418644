"""Prints the back office's permission matrix (apps/backoffice/permission_matrix.py) as Markdown;
--write puts it into docs/permissions.md, --check fails when that file is out of date."""

from django.core.management.base import BaseCommand, CommandError

from apps.backoffice import permission_matrix


class Command(BaseCommand):
    help = (
        "Print which staff role may open each back-office page and run each action (a Markdown table, "
        "computed from the code); --write updates docs/permissions.md, --check exits 1 if it differs."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--write", action="store_true", help=f"update {permission_matrix.DOCS}")
        mode.add_argument("--check", action="store_true", help=f"exit 1 if {permission_matrix.DOCS} differs")

    def handle(self, *args, write: bool, check: bool, **options):
        try:
            generated = permission_matrix.table()
        except permission_matrix.UndeclaredPage as undeclared:
            raise CommandError(str(undeclared)) from None
        if not write and not check:
            self.stdout.write(generated, ending="")
            return
        path = permission_matrix.DOCS
        text = path.read_text(encoding="utf-8")
        if check:
            if permission_matrix.documented(text) != generated:
                raise CommandError(f"{path} is not the code's matrix: run {permission_matrix.FIX}")
            self.stdout.write(f"{path} is up to date.")
            return
        try:
            path.write_text(permission_matrix.with_table(text, generated), encoding="utf-8")
        except ValueError as lost:
            raise CommandError(str(lost)) from None
        self.stdout.write(f"Wrote the permission matrix to {path}.")
