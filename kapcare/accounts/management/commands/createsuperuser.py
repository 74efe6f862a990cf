"""Replaces Django's `createsuperuser`, which would bypass staff roles and the audit log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Not used in kapcare: see 'kapcare createstaff' and the staff pages."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("args", nargs="*")

    def handle(self, *args: Any, **options: Any) -> None:
        raise CommandError(
            "kapcare does not use 'createsuperuser': it would skip staff roles and the audit log. "
            "Create staff with 'kapcare createstaff' (e.g. --role practice_admin); a practice "
            "admin resets a password from the staff member's page."
        )
