"""`kapcare serve`: the production web server (gunicorn), started only after the checks pass."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

# The access log names the path but never the query string: a search for a client's name is PHI.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


class Command(BaseCommand):
    help = "Run the web server (gunicorn) after Django's and kapcare's system checks pass."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind",
            default=os.environ.get("KAPCARE_BIND", "127.0.0.1:8000"),
            help="address:port to listen on (KAPCARE_BIND; default 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("KAPCARE_WEB_WORKERS", "2")),
            help="web worker processes (KAPCARE_WEB_WORKERS; default 2)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("KAPCARE_WEB_THREADS", "4")),
            help="threads per worker process (KAPCARE_WEB_THREADS; default 4)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("check", fail_level="ERROR")
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "kapcare.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--access-logfile",
            "-",
            "--access-logformat",
            ACCESS_LOG_FORMAT,
            "--forwarded-allow-ips",
            os.environ.get("KAPCARE_FORWARDED_ALLOW_IPS", "127.0.0.1"),
            "--graceful-timeout",
            "20",
            # kapcare does not use gunicorn's control socket; its fixed path under $HOME would be
            # shared by every instance on a machine and is read-only under a hardened service.
            "--no-control-socket",
        ]
        self.stdout.write(f"kapcare web server on http://{options['bind']}/")
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 (replaces this process with gunicorn)
