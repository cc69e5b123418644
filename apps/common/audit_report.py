"""The report of an audit command (`wallet_audit`, `staff_audit`): each check `ok` or `FAIL` with
the violations it found, then the verdict; exit status 1 when anything was found."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand


def write_report(command: BaseCommand, title: str, results: dict[str, list[str]], counts: str) -> None:
    violations = 0
    for name, found in results.items():
        command.stdout.write(f"{'FAIL' if found else 'ok  '} {name}")
        for violation in found:
            command.stdout.write(f"     - {violation}")
        violations += len(found)
    if violations:
        command.stdout.write(f"{title}: {violations} violation(s) in {counts}")
        sys.exit(1)
    command.stdout.write(f"{title}: clean ({counts})")
