"""`kapcare bench [pages|dashboard|chart|load]`: speed, printed as figures (nothing asserted).

- `pages` (the default): builds the demo practice with --clients generated clients in an empty
  database, then times the busiest pages as a therapist, a prescriber and a practice admin.
- `dashboard`, `chart`, `load`: measure an existing database (build it with `kapcare generate`):
  the program dashboard against its one-statement floor, the chart and progress pages at both
  ends of a client's history, and requests per second through gunicorn with wrk.

The measuring is in kapcare.synthetic.benchmarks and kapcare.synthetic.load (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from kapcare.synthetic import benchmarks, load

MODES = ("pages", "dashboard", "chart", "load")


class Command(BaseCommand):
    help = "Print server time for the busiest pages, the dashboard, the chart, or under load."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "mode",
            nargs="?",
            default="pages",
            choices=MODES,
            help="pages (default: builds a demo practice in an empty database); dashboard, "
            "chart and load measure an existing database",
        )
        parser.add_argument(
            "--clients", type=int, default=None, help="pages: generated clients (10000)"
        )
        parser.add_argument("--seed", type=int, default=None, help="pages: generator seed (7)")
        parser.add_argument(
            "--repeat", type=int, default=20, help="timed requests per page after a warm-up"
        )
        parser.add_argument("--seconds", type=int, default=15, help="load: seconds per page")
        parser.add_argument("--connections", type=int, default=4, help="load: open connections")
        parser.add_argument("--workers", type=int, default=2, help="load: gunicorn workers")
        parser.add_argument(
            "--threads", type=int, default=4, help="load: threads per gunicorn worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        mode = options["mode"]
        if options["repeat"] < 1:
            raise CommandError("--repeat must be at least 1")
        if mode != "pages" and (options["clients"] is not None or options["seed"] is not None):
            raise CommandError(
                f"--clients and --seed build a practice, which only `kapcare bench pages` does; "
                f"`kapcare bench {mode}` measures the database as it is (kapcare generate)."
            )
        for name in ("seconds", "connections", "workers", "threads"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        try:
            self._run(mode, options)
        except benchmarks.BenchError as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            raise CommandError("interrupted (any web server it started has been stopped)") from None

    def _run(self, mode: str, options: dict[str, Any]) -> None:
        benchmarks.reference_workload(self.stdout.write, "before")
        self._measure(mode, options)
        benchmarks.reference_workload(self.stdout.write, "after")

    def _measure(self, mode: str, options: dict[str, Any]) -> None:
        write = self.stdout.write
        repeat = options["repeat"]
        if mode == "pages":
            clients = 10_000 if options["clients"] is None else options["clients"]
            built = benchmarks.build_practice(
                clients=clients, seed=7 if options["seed"] is None else options["seed"]
            )
            write(
                f"kapcare bench: {clients} clients on {connection.vendor}, built in {built:.1f} s; "
                f"{repeat} requests per page, server time in ms"
            )
            benchmarks.bench_pages(write, repeat=repeat)
        elif mode == "dashboard":
            write(
                f"kapcare bench dashboard on {connection.vendor}: {repeat} timed runs each after "
                f"a warm-up, server time in ms"
            )
            if not benchmarks.bench_dashboard(write, repeat=repeat):
                raise CommandError("the floor's figures differ from the dashboard's (see !!!)")
        elif mode == "chart":
            write(
                f"kapcare bench chart on {connection.vendor}: {repeat} timed requests each after "
                f"a warm-up, server time in ms"
            )
            benchmarks.bench_chart(write, repeat=repeat)
        else:
            load.bench_load(
                write,
                seconds=options["seconds"],
                connections=options["connections"],
                workers=options["workers"],
                threads=options["threads"],
            )
