"""What `kapcare bench` measures: server time of pages through Django's test client, the program
dashboard against its one-statement floor, and the chart at both ends of a client's history.

Every function prints figures through `write` (one line at a time) and asserts nothing about
speed. Times are server time in milliseconds: a page is requested once to warm caches and the
connection, once more to count its SQL queries, then `repeat` times without query capture
(which costs time of its own); min / median / max are printed with the query count. The load
test with real HTTP is `kapcare.synthetic.load`.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, Max, Min
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.clients.models import CareTeamMember, CareTeamRole, Client
from kapcare.core.context import WorkContext, working_as
from kapcare.core.time import now, practice_zone
from kapcare.courses.models import Course
from kapcare.dosing.models import DosingSession, VitalsRow
from kapcare.measures.models import Administration
from kapcare.outcomes.dashboard import Filters, dashboard, scoped
from kapcare.outcomes.dashboard_forms import DashboardFilterForm
from kapcare.outcomes.models import CourseOutcome, CourseSafetyCount, CourseSummary
from kapcare.synthetic.dashboard_floor import differences, floor_dashboard, floor_rows
from kapcare.synthetic.demo import PracticeNotEmpty, create_demo_practice

Write = Callable[[str], None]

HEADER = f"{'what':<40} {'user':<16} {'min':>8} {'median':>8} {'max':>8} {'queries':>8}"


class BenchError(Exception):
    """The database cannot be benchmarked as asked (empty, no admin, a page not answering)."""


@dataclass(frozen=True)
class Timing:
    label: str
    user: str
    times: tuple[float, ...]  # milliseconds
    queries: int

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def line(self) -> str:
        return (
            f"{self.label:<40} {self.user:<16} {min(self.times):8.1f} {self.median:8.1f} "
            f"{max(self.times):8.1f} {self.queries:8d}"
        )


def measure[T](label: str, user: str, call: Callable[[], T], repeat: int) -> tuple[Timing, T]:
    """Call once to warm up, once more to count its queries, then `repeat` timed calls;
    returns the timing and the last call's result. The timed calls run without query capture,
    which on SQLite costs an extra statement per query."""
    call()
    with CaptureQueriesContext(connection) as captured:
        result = call()
    queries = len(captured)  # now: the next request empties the connection's query log
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return Timing(label, user, tuple(times), queries), result


REFERENCE_LOOP = 300_000  # squares summed by the reference workload


def reference_workload(write: Write, when: str, runs: int = 5) -> Timing:
    """Time a fixed pure-Python loop (no database): a shared machine's speed changes by the
    hour, and this figure, printed before and after the measurements, says how fast the machine
    was while they ran. Compare milliseconds between runs only alongside it."""

    def loop() -> int:
        total = 0
        for number in range(REFERENCE_LOOP):
            total += number * number
        return total

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        loop()
        times.append((time.perf_counter() - started) * 1000)
    timing = Timing(f"reference workload, {when}", "", tuple(times), 0)
    write(
        f"reference workload ({when}): {min(times):.1f} ms min, {timing.median:.1f} ms median "
        f"of {runs} (a fixed Python loop; lower is a faster machine)"
    )
    return timing


def signed_in(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def time_page(http: HttpClient, label: str, user: str, url: str, repeat: int) -> Timing:
    def request() -> Any:
        response = http.get(url, HTTP_HOST=settings.ALLOWED_HOSTS[0])
        if response.status_code != 200:
            raise BenchError(f"{url} answered {response.status_code} for {user}")
        return response

    timing, _ = measure(label, user, request, repeat)
    return timing


@contextmanager
def plain_static() -> Iterator[None]:
    """Pages are rendered without collected static files (hashed names are not what is timed)."""
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    with override_settings(STORAGES=storages):
        yield


def practice_admin() -> User:
    """The practice admin pages are timed as: `admin` when there is one, else the first."""
    admins = User.objects.filter(is_practice_admin=True, is_active=True)
    admin = admins.filter(username="admin").first() or admins.order_by("id").first()
    if admin is None:
        raise BenchError(
            "no active practice admin in this database (build it with kapcare generate)"
        )
    return admin


SCALE: Sequence[tuple[str, type[models.Model]]] = (
    ("clients", Client),
    ("courses", Course),
    ("course summaries", CourseSummary),
    ("course outcomes", CourseOutcome),
    ("course safety counts", CourseSafetyCount),
    ("administrations", Administration),
    ("dosing sessions", DosingSession),
    ("vitals rows", VitalsRow),
)


def scale() -> list[tuple[str, int]]:
    return [(label, model._default_manager.count()) for label, model in SCALE]


def write_scale(write: Write) -> None:
    write("rows: " + ", ".join(f"{label} {n:,}" for label, n in scale()))


# ---------------------------------------------------------------------------------------------
# kapcare bench pages: the busiest pages on a freshly built demo practice


def build_practice(*, clients: int, seed: int) -> float:
    """Build the demo practice with `clients` generated clients; seconds taken."""
    started = time.perf_counter()
    try:
        with working_as(WorkContext(channel="cli")), transaction.atomic():
            create_demo_practice(clients=clients, seed=seed, now=now())
    except PracticeNotEmpty as error:
        raise BenchError(f"{error} Point kapcare bench at an empty database.") from None
    built = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # Fresh bulk data has no planner statistics yet; a live database would have them.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return built


def bench_pages(write: Write, *, repeat: int) -> None:
    """The client list, search, chart, screening and home pages as therapist, prescriber and
    admin of the demo practice."""
    therapist = User.objects.get(username="therapist")
    # One of the therapist's own clients, so every user can open its chart.
    client = visible_clients(therapist).order_by("id").first()
    if client is None:
        raise BenchError("--clients must be at least 1")
    born = client.date_of_birth.isoformat()
    # A client with a screening history that every user may see, else the same client.
    screened = (
        visible_clients(therapist).filter(screen_runs__isnull=False).order_by("id").first()
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
    write(HEADER)
    with plain_static():
        for username in ("therapist", "prescriber", "admin"):
            http = signed_in(User.objects.get(username=username))
            for label, url in pages:
                write(time_page(http, label, username, url, repeat).line())


# ---------------------------------------------------------------------------------------------
# kapcare bench dashboard: the program dashboard against its floor


@dataclass(frozen=True)
class DashboardCase:
    label: str
    query: dict[str, str]


def dashboard_cases(today: dt.date) -> list[DashboardCase]:
    """The default period, all time, and the default period for the commonest protocol."""
    earliest = CourseSummary.objects.aggregate(first=Min("started_on"))["first"] or today
    default = DashboardFilterForm({}, today=today)
    default.is_valid()
    common = (
        CourseSummary.objects.filter(
            started_on__gte=default.cleaned_data["start"], started_on__lte=today
        )
        .values("protocol")
        .annotate(n=Count("id"))
        .order_by("-n", "protocol")
        .first()
    )
    cases = [
        DashboardCase("last 12 months", {}),
        DashboardCase("all time", {"start": earliest.isoformat()}),
    ]
    if common is not None:
        cases.append(
            DashboardCase(f"last 12 months, {common['protocol']}", {"protocol": common["protocol"]})
        )
    return cases


def cohort_of(case: DashboardCase, *, today: dt.date, user: User) -> Filters:
    """The filters the page works out from the case's query string (the same form)."""
    form = DashboardFilterForm(case.query, today=today)
    if not form.is_valid():
        raise BenchError(f"{case.label}: {form.errors.as_text()}")
    return scoped(form.filters(), user)


def bench_dashboard(write: Write, *, repeat: int) -> bool:
    """Time the dashboard page, `dashboard()` and the floor for each case; True when the floor
    and `dashboard()` gave the same figures in every case."""
    admin = practice_admin()
    today = now().astimezone(practice_zone()).date()
    write_scale(write)
    write(HEADER)
    http = signed_in(admin)
    same = True
    with plain_static():
        for case in dashboard_cases(today):
            cohort = cohort_of(case, today=today, user=admin)
            url = "/reports/program/" + (f"?{urlencode(case.query)}" if case.query else "")
            page = time_page(http, f"page {url}", admin.username, url, repeat)
            real_timing, real = measure("dashboard()", "", partial(dashboard, cohort), repeat)
            floor_timing, rows = measure(
                "floor: one SQL statement", "", partial(floor_rows, cohort), repeat
            )
            write(
                f"-- {case.label}: {real.courses_started:,} courses started "
                f"{cohort.start} to {cohort.end}, {real.response.whole:,} judged on "
                f"{cohort.instrument}"
            )
            for timing in (page, real_timing, floor_timing):
                write(timing.line())
            write(
                f"{'dashboard() / floor':<40} {'':<16} {'':>8} "
                f"{real_timing.median / floor_timing.median:7.2f}x  (target: at most 1.5 on "
                f"PostgreSQL at 100,000 clients)"
            )
            write(
                f"{'page / floor':<40} {'':<16} {'':>8} {page.median / floor_timing.median:7.2f}x"
            )
            found = differences(real, floor_dashboard(cohort, rows))
            if found:
                same = False
                write(f"!!! MISMATCH: dashboard() and the floor differ for {case.label}:")
                for line in found:
                    write(f"!!!   {line}")
            else:
                write("figures: dashboard() and the floor agree")
    return same


# ---------------------------------------------------------------------------------------------
# kapcare bench chart: the chart and progress pages for a long and a short history


def client_by_history(*, most: bool) -> Client | None:
    """The client with the most questionnaire forms (among the twenty with most, the one with
    most dosing sessions), or a client in treatment (with a course) with the fewest forms."""
    per_client = Administration._default_manager.values("client_id").annotate(n=Count("id"))
    if not most:
        in_treatment = Course.objects.values("client_id")
        row = per_client.filter(client_id__in=in_treatment).order_by("n", "client_id").first()
        return Client.objects.filter(id=row["client_id"]).first() if row else None
    top = [row["client_id"] for row in per_client.order_by("-n", "client_id")[:20]]
    if not top:
        return None
    sessions = dict(
        DosingSession.objects.filter(client_id__in=top)
        .values("client_id")
        .annotate(n=Count("id"))
        .values_list("client_id", "n")
    )
    chosen = max(top, key=lambda client_id: (sessions.get(client_id, 0), -top.index(client_id)))
    return Client.objects.get(id=chosen)


def history(client: Client) -> str:
    forms = Administration._default_manager.filter(client=client)
    span = forms.aggregate(first=Min("completed_at"), last=Max("completed_at"))
    sessions = DosingSession.objects.filter(client=client).count()
    vitals = VitalsRow.objects.filter(session__client=client).count()
    months = ""
    if span["first"] and span["last"]:
        months = f" over {(span['last'] - span['first']).days / 30.4:.0f} months"
    return (
        f"{forms.count():,} forms{months}, {sessions:,} dosing sessions, {vitals:,} vitals rows, "
        f"{Course.objects.filter(client=client).count()} courses"
    )


def therapist_of(client: Client) -> User | None:
    member = (
        CareTeamMember.objects.filter(
            client=client,
            ended_at__isnull=True,
            role__in=[CareTeamRole.PRIMARY_THERAPIST, CareTeamRole.THERAPIST],
            staff__is_active=True,
        )
        .select_related("staff")
        .order_by("role", "started_at")  # primary_therapist sorts first
        .first()
    )
    return member.staff if member else None


def bench_chart(write: Write, *, repeat: int) -> None:
    admin = practice_admin()
    long = client_by_history(most=True)
    short = client_by_history(most=False)
    if long is None or short is None:
        raise BenchError("no client has any questionnaire forms (build with kapcare generate)")
    write_scale(write)
    write(HEADER)
    with plain_static():
        for label, client in (("most history", long), ("little history", short)):
            write(f"-- {label}: {history(client)}")
            users = [user for user in (therapist_of(client), admin) if user is not None]
            for user in users:
                http = signed_in(user)
                for page, url in chart_urls(client):
                    write(time_page(http, f"{page}, {label}", user.username, url, repeat).line())


def chart_urls(client: Client) -> list[tuple[str, str]]:
    urls = [("chart", reverse("clients:chart", args=[client.public_id]))]
    with suppress(NoReverseMatch):  # the progress page, where the app provides one
        urls.append(("progress", reverse("outcomes:progress", args=[client.public_id])))
    return urls
