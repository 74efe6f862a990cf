"""`kapcare bench`: the dashboard's one-statement floor gives exactly the dashboard's figures, and
every mode runs end to end on a tiny database. Nothing here asserts a time."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from dataclasses import replace
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kapcare.clients.models import Client
from kapcare.core.time import now
from kapcare.courses.models import Course
from kapcare.outcomes import dashboard as figures
from kapcare.outcomes.models import CourseOutcome, CourseSafetyCount, CourseSummary
from kapcare.stock.models import Location
from kapcare.synthetic import benchmarks, dashboard_floor, load
from kapcare.synthetic.dashboard_floor import differences, floor_dashboard, floor_rows
from kapcare.synthetic.demo import create_demo_practice
from kapcare.testing.factories import make_client
from kapcare.testing.personas import Practice

START = dt.date(2026, 1, 1)
END = dt.date(2026, 6, 30)
ROUTES = {
    "kap_sublingual": "sublingual",
    "kap_intramuscular": "intramuscular",
    "iv_racemic": "intravenous",
    "esketamine": "intranasal",
}
SAFETY = [
    ("adverse_event", "non_serious", "mild"),
    ("adverse_event", "serious", "severe"),
    ("side_effect", "nausea", "mild"),
    ("side_effect", "nausea", "moderate"),
    ("side_effect", "dizziness", "mild"),
    ("side_effect", "headache", "mild"),
]


def maybe(rng: random.Random, value: Any, chance: float = 0.8) -> Any:
    return value if rng.random() < chance else None


def add_course(
    rng: random.Random,
    client: Client,
    *,
    started_on: dt.date,
    therapist: Any,
    prescriber: Any,
    location: Location | None,
) -> None:
    protocol = rng.choice(list(ROUTES))
    course = Course.objects.create(
        client=client, protocol=protocol, started_on=started_on, phase="completed"
    )
    CourseSummary.objects.filter(course=course).delete()  # replaced by hand-built figures
    sessions = rng.randint(0, 8)
    doses = rng.randint(0, sessions)
    expected = rng.randint(0, 20)
    due = rng.randint(0, 3)
    row = CourseSummary.objects.create(
        course=course,
        client=client,
        protocol=protocol,
        route=ROUTES[protocol],
        started_on=started_on,
        phase="completed",
        completed=rng.random() < 0.6,
        therapist=therapist,
        prescriber=prescriber,
        location=location,
        age_band=rng.choice(["18-24", "35-44", "65+"]),
        trauma_focused=rng.random() < 0.4,
        dosing_sessions=sessions,
        integration_doses=doses,
        integration_met=rng.randint(0, doses),
        measures_expected=expected,
        measures_done=rng.randint(0, expected),
        appointments_attended=rng.randint(0, 15),
        appointments_no_show=rng.randint(0, 2),
        bp_excursion_sessions=rng.randint(0, 1),
        rems_forms_due=due,
        rems_forms_on_time=rng.randint(0, due),
        adverse_events=rng.randint(0, 2),
        refreshed_at=now(),
    )
    for instrument in rng.sample(["phq9", "qids_sr16", "madrs"], rng.randint(0, 3)):
        baseline = rng.randint(10, 27)
        latest = rng.randint(0, 27)
        judged = rng.random() < 0.85  # else only a baseline so far
        remitted = latest <= 4 if judged else None
        kept = maybe(rng, rng.random() < 0.7, 0.5) if remitted else None
        CourseOutcome.objects.create(
            summary=row,
            instrument=instrument,
            scores=rng.randint(1, 9),
            baseline=baseline,
            latest=latest,
            change=latest - baseline if judged else None,
            responded=latest * 2 <= baseline if judged else None,
            remitted=remitted,
            days_to_response=maybe(rng, rng.choice([7, 14, 14, 21, 30, 45, 60]), 0.6)
            if judged and latest * 2 <= baseline
            else None,
            relapsed=None if kept is None else not kept,
            kept_3_months=kept,
            kept_6_months=None if kept is None else kept and rng.random() < 0.5,
        )
    for category, kind, severity in rng.sample(SAFETY, rng.randint(0, 3)):
        CourseSafetyCount.objects.create(
            summary=row, category=category, kind=kind, severity=severity, count=rng.randint(1, 3)
        )


@pytest.fixture
def location() -> Location:
    return Location.objects.create(name="Eastside")


@pytest.fixture
def courses(practice: Practice, location: Location) -> None:
    """Seventy hand-built course summaries around the period, with every kind of gap."""
    rng = random.Random(23)
    clients = [practice.client, *(make_client() for _ in range(6))]
    clinicians = [practice.therapist, practice.prescriber, practice.outsider, None]
    for index in range(70):
        add_course(
            rng,
            clients[index % len(clients)],
            started_on=START + dt.timedelta(days=rng.randint(-60, 240)),
            therapist=rng.choice(clinicians),
            prescriber=rng.choice([practice.prescriber, None]),
            location=rng.choice([location, None]),
        )


FILTER_SETS: list[dict[str, Any]] = [
    {},
    {"start": START - dt.timedelta(days=400), "end": END + dt.timedelta(days=400)},
    {"protocol": "esketamine"},
    {"route": "sublingual", "instrument": "madrs"},
    {"instrument": "qids_sr16", "trauma_focused": "yes"},
    {"trauma_focused": "no", "age_band": "65+"},
    {"start": dt.date(2030, 1, 1), "end": dt.date(2030, 12, 31)},  # nobody
]


@pytest.mark.parametrize("changes", FILTER_SETS, ids=lambda changes: ",".join(changes) or "period")
def test_the_floor_gives_the_dashboards_figures(courses: None, changes: dict[str, Any]) -> None:
    filters = figures.Filters(**{"start": START, "end": END, **changes})
    real = figures.dashboard(filters)
    floor = floor_dashboard(filters)
    assert differences(real, floor) == []
    assert len(floor_rows(filters)) == (
        2 + len(real.safety) + len(real.by_protocol) + len(real.by_month)
    )


def test_the_floor_follows_the_clinician_and_location(
    courses: None, practice: Practice, location: Location
) -> None:
    for changes in (
        {"clinician": practice.therapist.id},
        {"clinician": practice.prescriber.id},
        {"location": location.id, "protocol": "kap_sublingual"},
    ):
        filters = figures.Filters(start=START, end=END, **changes)
        real = figures.dashboard(filters)
        assert real.courses_started > 0
        assert differences(real, floor_dashboard(filters)) == []


def test_the_floors_median_takes_the_middle_two_of_an_even_count(practice: Practice) -> None:
    rng = random.Random(5)
    for _ in range(5):
        add_course(
            rng,
            practice.client,
            started_on=dt.date(2026, 3, 1),
            therapist=None,
            prescriber=None,
            location=None,
        )
    CourseOutcome.objects.all().delete()
    for days, row in zip((10, 20, 31, 50, None), CourseSummary.objects.all(), strict=True):
        CourseOutcome.objects.create(
            summary=row,
            instrument="phq9",
            scores=3,
            baseline=20,
            latest=8 if days else 15,
            change=-12 if days else -5,
            responded=days is not None,
            remitted=False,
            days_to_response=days,
        )
    filters = figures.Filters(start=START, end=END)
    floor = floor_dashboard(filters)
    assert floor.median_days_to_response == 25.5
    assert differences(figures.dashboard(filters), floor) == []


def test_differences_names_the_figure(db: None) -> None:
    board = figures.dashboard(figures.Filters(start=START, end=END))
    other = replace(
        board,
        remission=figures.Proportion(2, 2),
        change=figures.Spread(2, 1.0 + 1e-12, 0.5),
        by_month=((START, 3),),
    )
    close = replace(board, change=figures.Spread(2, 1.0, 0.5))
    assert differences(board, board) == []
    assert differences(close, other)[0] == "dashboard.remission.part: 0 != 2"
    assert differences(close, other)[1] == "dashboard.remission.whole: 0 != 2"
    assert differences(close, other)[2].startswith("dashboard.by_month: 0 rows != 1 rows")
    assert len(differences(close, other)) == 3  # 1 part in 10¹² is the same float


# ---------------------------------------------------------------------------------------------
# The command, end to end on a tiny database


@pytest.fixture
def demo(db: None) -> None:
    create_demo_practice(clients=4, seed=3, now=now())


def bench(*args: str, **options: Any) -> str:
    out = StringIO()
    call_command("bench", *args, stdout=out, **options)
    return out.getvalue()


def test_bench_dashboard_runs_and_finds_the_same_figures(demo: None) -> None:
    assert CourseSummary.objects.exists()
    output = bench("dashboard", repeat=1)
    assert "rows: clients " in output
    assert "vitals rows" in output
    assert "page /reports/program/" in output
    assert "-- all time:" in output
    assert output.count("figures: dashboard() and the floor agree") == output.count("-- ")
    assert "MISMATCH" not in output
    floors = [line for line in output.splitlines() if line.startswith("floor: one SQL")]
    assert floors
    assert all(line.split()[-1] == "1" for line in floors)  # one query, whatever the case


def test_bench_dashboard_fails_loudly_on_a_mismatch(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wrong(filters: figures.Filters, rows: Any = None) -> figures.Dashboard:
        real = figures.dashboard(filters)
        return replace(real, courses_started=real.courses_started + 1)

    monkeypatch.setattr(benchmarks, "floor_dashboard", wrong)
    out = StringIO()
    with pytest.raises(CommandError, match="differ"):
        call_command("bench", "dashboard", repeat=1, stdout=out)
    assert "!!! MISMATCH" in out.getvalue()
    assert "courses_started" in out.getvalue()


def test_bench_chart_runs_for_a_long_and_a_short_history(demo: None) -> None:
    output = bench("chart", repeat=1)
    assert "-- most history:" in output
    assert "-- little history:" in output
    assert "chart, most history" in output
    assert "progress, little history" in output


def test_bench_pages_builds_and_times_by_default(db: None) -> None:
    output = bench(clients=3, repeat=1)
    assert "kapcare bench: 3 clients" in output
    for page in ("client list", "chart", "screening", "home"):
        assert page in output
    assert CourseSummary.objects.exists()


def test_bench_load_is_skipped_with_a_message_without_wrk(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    lines = bench("load", seconds=1).splitlines()
    # Between the machine's reference figures (before, after), only the message.
    assert lines[0].startswith("reference workload (before)")
    assert "\n".join(lines[1:-1]) == load.WRK_MISSING
    assert lines[-1].startswith("reference workload (after)")


def test_modes_on_an_existing_database_refuse_to_build_one(db: None) -> None:
    with pytest.raises(CommandError, match="kapcare bench pages"):
        call_command("bench", "dashboard", clients=10, stdout=StringIO())


def test_bench_on_an_empty_database_says_what_is_missing(db: None) -> None:
    with pytest.raises(CommandError, match="practice admin"):
        call_command("bench", "dashboard", repeat=1, stdout=StringIO())


WRK_OUTPUT = """Running 15s test @ http://127.0.0.1:8000/clients/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    45.12ms   10.23ms    1.20s    70.00%
    Req/Sec    88.50     10.00   100.00     80.00%
  Latency Distribution
     50%  812.00us
     75%   50.00ms
     90%   60.50ms
     99%    1.02s
  1327 requests in 15.01s, 12.34MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:     88.40
Transfer/sec:    823.00KB
"""


def test_wrk_output_is_read_in_milliseconds() -> None:
    result = load.parse_wrk(WRK_OUTPUT)
    assert result.requests_per_second == 88.4
    assert result.requests == 1327
    assert result.latency_ms == {"50%": 0.812, "75%": 50.0, "90%": 60.5, "99%": 1020.0}
    assert result.non_2xx_3xx == 3
    assert "timeout 2" in result.errors
    assert "3 non-2xx/3xx" in result.errors


def test_the_floor_has_a_statement_for_each_database() -> None:
    filters = figures.Filters(start=START, end=END, protocol="esketamine")
    for vendor, median in (("postgresql", "percentile_cont"), ("sqlite", "ROW_NUMBER()")):
        sql, params = dashboard_floor.floor_sql(filters, vendor)
        assert median in sql
        assert sql.count("%s") == len(params)
        assert "esketamine" in params
