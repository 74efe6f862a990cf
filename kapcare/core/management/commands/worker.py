"""`kapcare worker`: runs background tasks from the database queue (django-tasks-db)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from kapcare.core.context import WorkContext, working_as


class Command(BaseCommand):
    help = "Run the background worker: takes queued tasks from the database and runs them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", default="default", help="queue(s) to take tasks from")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument(
            "--max-tasks", type=int, default=None, help="stop after this many tasks"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker_options: dict[str, Any] = {
            "queue_name": options["queue_name"],
            "interval": options["interval"],
            "reload": False,
        }
        if options["max_tasks"] is not None:
            worker_options["max_tasks"] = options["max_tasks"]
        # Everything a task writes is audited as the worker's doing.
        with working_as(WorkContext(channel="worker")):
            call_command("db_worker", **worker_options)
