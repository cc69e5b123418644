"""Enrol a staff member's authenticator and recovery codes (docs/backoffice.md): the first admin's,
before the back office requires two-factor sign-in, or anyone's whose phone or codes are lost."""

from __future__ import annotations

import getpass
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts import selectors, services
from apps.accounts.choices import StaffRole
from apps.accounts.errors import NotStaff


class Command(BaseCommand):
    help = (
        "Give a staff member a new authenticator (TOTP) device and 10 recovery codes, replacing "
        "the ones they had; prints the otpauth:// URI, its secret and the codes once. "
        "--create-admin first creates the user in the admin group if missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--create-admin", action="store_true",
            help="create USERNAME as an admin if no such user exists (the password is prompted for, or read "
                 "from --password-file)",
        )  # fmt: skip
        parser.add_argument(
            "--password-file", type=Path,
            help="with --create-admin: read the new admin's password from this file (its first line)",
        )  # fmt: skip

    def handle(self, *args, username: str, create_admin: bool, password_file: Path | None, **options):
        if password_file is not None and not create_admin:
            raise CommandError("--password-file is only for --create-admin.")
        user = selectors.find_user(username)
        if user is None:
            if not create_admin:
                raise CommandError(f"No user {username!r}. To create the first admin, add --create-admin.")
            user = self._create_admin(username, password_file)
        try:
            enrolment = services.enrol_staff_otp(user=user)
        except NotStaff as refusal:
            raise CommandError(f"{username!r}: {refusal.message}") from None
        self.stdout.write(
            f"Enrolled {username}: add the authenticator in an app (scan the URI as a QR code, or type the secret).\n"
            f"  otpauth URI: {enrolment.device.config_url}\n"
            f"  secret (base32): {enrolment.secret}\n"
            "Recovery codes, each good for one sign-in instead of a code (shown only now; keep them offline):"
        )
        for code in enrolment.recovery_codes:
            self.stdout.write(f"  {code}")

    def _create_admin(self, username: str, password_file: Path | None):
        password = self._read_password(password_file) if password_file else self._prompt_password()
        try:
            validate_password(password)
        except ValidationError as invalid:
            raise CommandError("The password is refused: " + " ".join(invalid.messages)) from None
        user = services.create_staff_user(username=username, password=password, role=StaffRole.ADMIN)
        self.stdout.write(f"Created the admin {username}.")
        return user

    def _read_password(self, path: Path) -> str:
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise CommandError(f"Cannot read the password file: {exc.strerror}.") from None
        if not lines or not lines[0]:
            raise CommandError("The password file is empty.")
        return lines[0]

    def _prompt_password(self) -> str:
        # getpass reads from the terminal without echoing; never from an argument, which the
        # process list and the shell's history would show.
        password = getpass.getpass("Password for the new admin: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ.")
        return password
