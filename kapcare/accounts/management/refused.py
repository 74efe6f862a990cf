"""Django account commands that kapcare replaces, because they bypass roles and the audit log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def refused_command(name: str) -> type[BaseCommand]:
    class Command(BaseCommand):
        help = "Not used in kapcare: see 'kapcare createstaff' and the staff pages."

        def add_arguments(self, parser: CommandParser) -> None:
            parser.add_argument("args", nargs="*")

        def handle(self, *args: Any, **options: Any) -> None:
            raise CommandError(
                f"kapcare does not use '{name}': it would skip staff roles and the audit log. "
                "Create staff with 'kapcare createstaff' (e.g. --role practice_admin); a "
                "practice admin resets a password from the staff member's page."
            )

    return Command
