"""`kapcare generate`: a synthetic network of clinics in an empty database, with row counts."""

from __future__ import annotations

import datetime as dt
import sys
import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from kapcare.core.context import WorkContext, working_as
from kapcare.core.time import now as clock_now
from kapcare.core.time import practice_zone
from kapcare.synthetic.network import NetworkNotEmpty, NetworkReport, generate_network


class ProgressLine:
    """A one-line progress bar on a terminal (redrawn with a carriage return), at most a few
    times a second; silent when the stream is not a terminal."""

    WIDTH = 30

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.started = time.perf_counter()
        self.shown = 0.0
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        moment = time.perf_counter()
        if stage != self.stage:
            if self.stage:
                self.stream.write("\n")
            self.stage, self.started = stage, moment
        elif done < total and moment - self.shown < 0.25:
            return
        self.shown = moment
        share = done / total if total else 1.0
        filled = round(self.WIDTH * share)
        elapsed = moment - self.started
        left = f", about {elapsed / share - elapsed:.0f} s left" if 0 < share < 1 else ""
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(
            f"\r{stage:<9} [{bar}] {share:4.0%} {done:,}/{total:,} in {elapsed:.0f} s{left}   "
        )
        if done >= total:
            self.stream.write("\n")
            self.stage = ""
        self.stream.flush()


def _moment(text: str | None) -> dt.datetime:
    if not text:
        return clock_now()
    moment = parse_datetime(text)
    if moment is None:
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--now: {text!r} is not an ISO date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=practice_zone())
    return moment


class Command(BaseCommand):
    help = (
        "Generate a synthetic network of clinics (staff, clients, courses, dosing sessions, "
        "questionnaires, stock) into an empty database, and print the rows written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--years", type=int, default=3, help="how far back courses start")
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="worker processes making the clinics (default: one per core; 1: none)",
        )
        parser.add_argument(
            "--now",
            help="the moment the network is generated for (ISO date and time; default: now); "
            "the same seed and --now give the same network",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clients"] < 1:
            raise CommandError("--clients must be at least 1")
        if options["years"] < 1:
            raise CommandError("--years must be at least 1")
        if options["processes"] is not None and options["processes"] < 1:
            raise CommandError("--processes must be at least 1")
        moment = _moment(options["now"])
        progress = ProgressLine(sys.stderr, options["verbosity"] >= 1)
        try:
            with working_as(WorkContext(channel="cli")):
                report = generate_network(
                    clients=options["clients"],
                    seed=options["seed"],
                    now=moment,
                    years=options["years"],
                    processes=options["processes"],
                    progress=progress,
                )
        except NetworkNotEmpty as error:
            raise CommandError(f"{error} Point kapcare generate at an empty database.") from None
        self._summary(report)

    def _summary(self, report: NetworkReport) -> None:
        write = self.stdout.write
        write(
            f"kapcare generate: {report.clients:,} clients in {report.clinics} clinics, "
            f"seed {report.seed}, {report.years} years to {report.now.isoformat()}"
        )
        write(f"{'table':<32} {'rows':>12}")
        for table, rows in sorted(report.rows.items(), key=lambda item: -item[1]):
            write(f"{table:<32} {rows:>12,}")
        write(f"{'total':<32} {report.total_rows:>12,}")
        write(f"Course outcome summaries written: {report.outcomes:,}")
        for phase, seconds in report.phases.items():
            write(f"  {phase:<30} {seconds:8.1f} s")
        rate = report.total_rows / report.seconds if report.seconds else 0
        write(f"Elapsed: {report.seconds:.1f} s ({rate:,.0f} rows/s)")
