"""`kapcare createstaff`: create a staff account from the server's command line."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from kapcare.accounts.models import PrescriberCredential, Role
from kapcare.accounts.services import staff_create
from kapcare.core.context import WorkContext, working_as


class Command(BaseCommand):
    help = (
        "Create a staff account. Prints a generated password unless --password-stdin is given. "
        "Example: kapcare createstaff --username lee --first-name Morgan --last-name Lee "
        "--role practice_admin"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--first-name", required=True)
        parser.add_argument("--last-name", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--title", default="", help="professional title, e.g. LMFT")
        parser.add_argument(
            "--role",
            action="append",
            required=True,
            choices=Role.values,
            help="a role; repeat for several",
        )
        parser.add_argument("--credential", default="", choices=["", *PrescriberCredential.values])
        parser.add_argument("--licence", default="", help="licence number (prescribers)")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        try:
            with working_as(WorkContext(channel="cli")), transaction.atomic():
                user, initial = staff_create(
                    actor=None,
                    username=options["username"],
                    first_name=options["first_name"],
                    last_name=options["last_name"],
                    email=options["email"],
                    roles=options["role"],
                    professional_title=options["title"],
                    prescriber_credential=options["credential"],
                    licence_number=options["licence"],
                    password=password,
                )
        except ValidationError as error:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            raise CommandError(f"staff account not created: {problems}") from None
        self.stdout.write(f"Created {user.username} ({', '.join(user.role_labels)}).")
        if password is None:
            self.stdout.write(f"Initial password: {initial}")
