"""`kapcare bench`: server time of the busiest pages on a synthetic practice, printed as figures.

It builds the practice in the configured database (use a throwaway one: an empty SQLite file via
KAPCARE_DATA_DIR, or a scratch PostgreSQL via DATABASE_URL), then requests each page through
Django's test client as a therapist and as a practice admin, and prints min/median/max and the
query count. Nothing is asserted: speed is measured, not tested.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext, override_settings

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.core.context import WorkContext, working_as
from kapcare.core.time import now
from kapcare.synthetic.demo import PracticeNotEmpty, create_demo_practice


class Command(BaseCommand):
    help = "Build a synthetic practice and print server time for the busiest pages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--repeat", type=int, default=20, help="requests per page")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["repeat"] < 1:
            raise CommandError("--repeat must be at least 1")
        started = time.perf_counter()
        try:
            with working_as(WorkContext(channel="cli")), transaction.atomic():
                create_demo_practice(clients=options["clients"], seed=options["seed"], now=now())
        except PracticeNotEmpty as error:
            raise CommandError(f"{error} Point kapcare bench at an empty database.") from None
        built = time.perf_counter() - started
        if connection.vendor == "postgresql":
            # Fresh bulk data has no planner statistics yet; a live database would have them.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        vendor = connection.vendor
        self.stdout.write(
            f"kapcare bench: {options['clients']} clients on {vendor}, built in {built:.1f} s; "
            f"{options['repeat']} requests per page, server time in ms"
        )
        self.stdout.write(
            f"{'page':<36} {'user':<10} {'min':>7} {'median':>7} {'max':>7} {'queries':>8}"
        )
        # One of the therapist's own clients, so both users can open its chart.
        client = visible_clients(User.objects.get(username="therapist")).order_by("id").first()
        if client is None:
            raise CommandError("--clients must be at least 1")
        born = client.date_of_birth.isoformat()
        # A client with a screening history that both users may see, else the same client.
        screened = (
            visible_clients(User.objects.get(username="therapist"))
            .filter(screen_runs__isnull=False)
            .order_by("id")
            .first()
        ) or client
        pages = [
            ("client list", "/clients/"),
            ("client list, page 40", "/clients/?page=40"),
            ("search by name", f"/clients/?q={client.legal_family_name[:4]}"),
            ("search by date of birth", f"/clients/?q={born}"),
            ("chart", f"/clients/{client.public_id}/"),
            ("screening", f"/clients/{screened.public_id}/screening/"),
            ("home", "/"),
        ]
        # Pages are rendered without collected static files (hashed names are not what is timed).
        plain_static = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        with override_settings(STORAGES=plain_static):
            self._measure_pages(pages, options["repeat"])

    def _measure_pages(self, pages: list[tuple[str, str]], repeat: int) -> None:
        for username in ("therapist", "prescriber", "admin"):
            http = HttpClient()
            http.force_login(User.objects.get(username=username))
            for label, url in pages:
                self._measure(http, label, username, url, repeat)

    def _measure(self, http: HttpClient, label: str, username: str, url: str, repeat: int) -> None:
        def request() -> Any:
            return http.get(url, HTTP_HOST=settings.ALLOWED_HOSTS[0])

        first = request()  # warm caches and the connection
        if first.status_code != 200:
            raise CommandError(f"{url} answered {first.status_code}")
        timings = []
        queries = 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                timings.append(_timed(request))
            queries = len(captured)
        self.stdout.write(
            f"{label:<36} {username:<10} {min(timings):7.1f} {statistics.median(timings):7.1f} "
            f"{max(timings):7.1f} {queries:8d}"
        )


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000
