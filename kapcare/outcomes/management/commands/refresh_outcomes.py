"""`kapcare refresh_outcomes`: recompute the per-course summaries the program dashboard reads.

Saving a record refreshes its course's summary when the transaction commits; what only time
changes (an integration window closing, a follow-up window passing, a durability date arriving)
needs this command, run nightly. `--all` rebuilds every course's summary.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kapcare.core.context import WorkContext, working_as
from kapcare.core.time import now
from kapcare.courses.models import Course
from kapcare.outcomes.summaries import courses_in_motion, refresh_courses


class Command(BaseCommand):
    help = "Recompute the per-course outcome summaries (nightly: courses time can still change)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="every course, not only recent")

    def handle(self, *args: Any, **options: Any) -> None:
        at = now()
        courses = Course.objects.all()
        if not options["all"]:
            courses = courses.filter(courses_in_motion(now=at))
        started = time.perf_counter()
        with working_as(WorkContext(channel="cli")):
            written = refresh_courses(courses.values_list("id", flat=True), now=at)
        self.stdout.write(
            f"Refreshed {written} course summar{'y' if written == 1 else 'ies'} "
            f"in {time.perf_counter() - started:.1f} s."
        )
