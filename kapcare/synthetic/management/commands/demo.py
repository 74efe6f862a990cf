"""`kapcare demo`: fill an empty database with the demo practice and print its accounts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from kapcare.core.context import WorkContext, working_as
from kapcare.core.time import now
from kapcare.synthetic.demo import PracticeNotEmpty, create_demo_practice


class Command(BaseCommand):
    help = (
        "Create the demo practice (one account per role, synthetic clients) in an empty "
        "database and write its accounts to a file readable only by this user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=40)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--history",
            type=int,
            default=0,
            help="also this many clients of partner clinics with years of courses behind them "
            "(for the program dashboard); ./run uses 400",
        )
        parser.add_argument(
            "--accounts-file",
            default=str(Path(settings.DATA_DIR) / "demo-accounts.txt"),
            help="where to write the demo usernames and passwords (mode 0600)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clients"] < 0:
            raise CommandError("--clients must be 0 or more")
        if options["history"] < 0:
            raise CommandError("--history must be 0 or more")
        try:
            with working_as(WorkContext(channel="cli")), transaction.atomic():
                accounts, counts = create_demo_practice(
                    clients=options["clients"],
                    seed=options["seed"],
                    now=now(),
                    history=options["history"],
                )
        except PracticeNotEmpty as error:
            raise CommandError(str(error)) from None
        lines = [f"{a.username}\t{a.password}\t{a.name}\t{a.roles}" for a in accounts]
        path = Path(options["accounts_file"])
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # an existing file keeps its old mode without this
        with os.fdopen(descriptor, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        partners = (
            f" and {options['history']} clients of partner clinics" if options["history"] else ""
        )
        self.stdout.write(
            f"Demo practice created: {counts.clients} clients{partners}, {len(accounts)} staff "
            f"accounts (written to {path})."
        )
        for account in accounts:
            self.stdout.write(f"  {account.username:<12} {account.password}  {account.roles}")
