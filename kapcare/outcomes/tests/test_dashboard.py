"""The program dashboard over hand-built course summaries: each figure against a computation in
Python over the same rows, the filters, the cohort's period, the therapist's own scope, the
drill-down lists (care team only), the CSV export (fresh password, audited) and flat query
counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import statistics
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamRole, Client
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.courses.models import Course
from kapcare.outcomes import dashboard as figures
from kapcare.outcomes import rules
from kapcare.outcomes.models import CourseOutcome, CourseSafetyCount, CourseSummary
from kapcare.stock.models import Location
from kapcare.testing.factories import make_client, make_member
from kapcare.testing.http import reauthenticated, signed_in
from kapcare.testing.personas import Practice

START = dt.date(2026, 1, 1)
END = dt.date(2026, 6, 30)
ROUTES = {
    "kap_sublingual": "sublingual",
    "kap_intramuscular": "intramuscular",
    "iv_racemic": "intravenous",
    "esketamine": "intranasal",
}


def summary(
    client: Client,
    *,
    started_on: dt.date = dt.date(2026, 3, 1),
    protocol: str = "kap_sublingual",
    outcome: dict[str, Any] | None = None,
    instrument: str = "phq9",
    safety: list[tuple[str, str, str, int]] = (),  # type: ignore[assignment]
    **counts: Any,
) -> CourseSummary:
    course = Course.objects.create(
        client=client, protocol=protocol, started_on=started_on, phase="completed"
    )
    # Outside a test transaction, saving the course has already summarised it for real: these
    # hand-built figures replace that summary.
    CourseSummary.objects.filter(course=course).delete()
    row = CourseSummary.objects.create(
        course=course,
        client=client,
        protocol=protocol,
        route=ROUTES[protocol],
        started_on=started_on,
        phase="completed",
        completed=counts.pop("completed", True),
        age_band=counts.pop("age_band", "35-44"),
        refreshed_at=now(),
        **counts,
    )
    if outcome is not None:
        CourseOutcome.objects.create(summary=row, instrument=instrument, scores=3, **outcome)
    for category, kind, severity, count in safety:
        CourseSafetyCount.objects.create(
            summary=row, category=category, kind=kind, severity=severity, count=count
        )
    return row


def judged(baseline: int, latest: int, **more: Any) -> dict[str, Any]:
    return {
        "baseline": baseline,
        "latest": latest,
        "change": latest - baseline,
        "responded": latest * 2 <= baseline,
        "remitted": latest <= 4,
        **more,
    }


def cohort(**changes: Any) -> figures.Filters:
    return figures.Filters(start=START, end=END, **changes)


@pytest.fixture
def clients(practice: Practice) -> list[Client]:
    """Practice's Jamie plus five clients on nobody's team but the admin's view."""
    return [practice.client, *(make_client() for _ in range(5))]


def test_every_figure_against_python_over_the_same_rows(clients: list[Client]) -> None:
    rng = random.Random(11)
    rows = []
    for index in range(40):
        baseline = rng.randint(10, 27)
        latest = rng.randint(0, 27)
        days = rng.choice([None, 14, 21, 30, 45])
        kept3 = rng.choice([None, True, False])
        rows.append(
            (
                summary(
                    clients[index % len(clients)],
                    started_on=START + dt.timedelta(days=rng.randint(0, 170)),
                    protocol=rng.choice(list(ROUTES)),
                    outcome=judged(
                        baseline,
                        latest,
                        days_to_response=days,
                        kept_3_months=kept3,
                        relapsed=None if kept3 is None else not kept3,
                    ),
                    completed=rng.random() < 0.6,
                    dosing_sessions=(sessions := rng.randint(0, 8)),
                    integration_doses=(doses := rng.randint(0, sessions)),
                    integration_met=rng.randint(0, doses),
                    measures_expected=(expected := rng.randint(0, 20)),
                    measures_done=rng.randint(0, expected),
                    appointments_attended=rng.randint(0, 15),
                    appointments_no_show=rng.randint(0, 2),
                    bp_excursion_sessions=rng.randint(0, 1),
                    rems_forms_due=(due := rng.randint(0, 3)),
                    rems_forms_on_time=rng.randint(0, due),
                    adverse_events=(aes := rng.randint(0, 1)),
                    safety=[("adverse_event", "non_serious", "mild", aes)] if aes else [],
                ),
                baseline,
                latest,
                days,
                kept3,
            )
        )
    # Outside the period: never counted.
    summary(clients[0], started_on=END + dt.timedelta(days=1), outcome=judged(20, 2))
    summary(clients[0], started_on=START - dt.timedelta(days=1), outcome=judged(20, 2))

    board = figures.dashboard(cohort())
    courses = [row for row, *_ in rows]
    assert board.courses_started == 40
    assert board.courses_completed == sum(row.completed for row in courses)
    responders = sum(latest * 2 <= baseline for _, baseline, latest, _, _ in rows)
    assert (board.response.part, board.response.whole) == (responders, 40)
    assert board.response.interval == rules.wilson_interval(responders, 40)
    remitters = sum(latest <= 4 for _, _, latest, _, _ in rows)
    assert (board.remission.part, board.remission.whole) == (remitters, 40)
    days = [d for *_, d, _ in rows if d is not None]
    assert board.median_days_to_response == statistics.median(days)
    kept = [k for *_, k in rows if k is not None]
    assert (board.kept_3_months.part, board.kept_3_months.whole) == (sum(kept), len(kept))
    assert (board.relapse.part, board.relapse.whole) == (len(kept) - sum(kept), len(kept))
    changes = [latest - baseline for _, baseline, latest, _, _ in rows]
    assert board.change.n == 40
    assert board.change.mean == pytest.approx(statistics.mean(changes))
    assert board.change.sd == pytest.approx(statistics.stdev(changes))
    assert board.measurement == figures.Proportion(
        sum(r.measures_done for r in courses), sum(r.measures_expected for r in courses)
    )
    assert board.integration == figures.Proportion(
        sum(r.integration_met for r in courses), sum(r.integration_doses for r in courses)
    )
    sessions = sum(r.dosing_sessions for r in courses)
    assert board.dosing_sessions == sessions
    aes = sum(r.adverse_events for r in courses)
    assert board.adverse_per_100 == pytest.approx(aes * 100 / sessions)
    assert board.safety[0].count == aes
    assert board.safety[0].per_100 == pytest.approx(aes * 100 / sessions)
    assert board.bp_excursions == sum(r.bp_excursion_sessions for r in courses)
    assert board.rems == figures.Proportion(
        sum(r.rems_forms_on_time for r in courses), sum(r.rems_forms_due for r in courses)
    )
    no_show = sum(r.appointments_no_show for r in courses)
    assert board.no_show == figures.Proportion(
        no_show, no_show + sum(r.appointments_attended for r in courses)
    )
    by_protocol = {row.protocol: row for row in board.by_protocol}
    for protocol in ROUTES:
        mine = [(b, latest) for row, b, latest, _, _ in rows if row.protocol == protocol]
        if mine:
            assert by_protocol[protocol].response.whole == len(mine)
            assert by_protocol[protocol].response.part == sum(lt * 2 <= b for b, lt in mine)
    assert sum(n for _, n in board.by_month) == 40


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(clients: list[Client]) -> None:
    for days in (10, 20, 30, 50):
        summary(clients[1], outcome=judged(20, 8, days_to_response=days))
    summary(clients[1], outcome=judged(20, 15))  # no response: not in the median
    assert figures.dashboard(cohort()).median_days_to_response == 25


def test_outcomes_not_yet_judged_stay_out_of_the_denominators(clients: list[Client]) -> None:
    summary(clients[1], outcome={"baseline": 18, "latest": 18})  # only a baseline so far
    summary(clients[1], outcome=judged(20, 10))
    board = figures.dashboard(cohort())
    assert board.response == figures.Proportion(1, 1)
    assert board.change.n == 1
    assert board.change.sd is None  # one value has no spread
    assert board.kept_3_months.whole == 0
    assert board.kept_3_months.rate is None


def test_an_empty_cohort_has_no_rates(db: None) -> None:
    board = figures.dashboard(cohort())
    assert board.courses_started == 0
    assert board.response.rate is None
    assert board.response.interval is None
    assert board.median_days_to_response is None
    assert board.adverse_per_100 is None
    assert board.change.mean is None


def test_filters_narrow_the_cohort(practice: Practice, clients: list[Client]) -> None:
    clinic = Location.objects.create(name="Eastside")
    mine = summary(
        clients[1],
        protocol="iv_racemic",
        outcome=judged(20, 2),
        therapist=practice.therapist,
        location=clinic,
        age_band="25-34",
        trauma_focused=True,
    )
    summary(clients[2], protocol="esketamine", outcome=judged(20, 19), age_band="65+")
    summary(clients[3], outcome=judged(20, 19), prescriber=practice.therapist)
    summary(clients[3], outcome=judged(20, 3), instrument="madrs")

    def started(**changes: Any) -> int:
        return figures.dashboard(cohort(**changes)).courses_started

    assert started() == 4
    assert started(protocol="iv_racemic") == 1
    assert started(route="intranasal") == 1
    assert started(location=clinic.id) == 1
    assert started(age_band="25-34") == 1
    assert started(trauma_focused="yes") == 1
    assert started(trauma_focused="no") == 3
    assert started(clinician=practice.therapist.id) == 2  # as therapist or as prescriber
    assert figures.dashboard(cohort(protocol="iv_racemic")).response == figures.Proportion(1, 1)
    madrs = figures.dashboard(cohort(instrument="madrs"))
    assert madrs.remission.whole == 1
    assert madrs.courses_started == 4  # the cohort is the same; only the measure differs
    assert mine.course.summary == mine


def test_a_therapist_sees_only_their_own_courses_figures(
    practice: Practice, clients: list[Client]
) -> None:
    summary(clients[0], outcome=judged(20, 2), therapist=practice.therapist)
    summary(clients[1], outcome=judged(20, 19), therapist=practice.outsider)
    assert figures.scoped(cohort(), practice.therapist).clinician == practice.therapist.id
    assert figures.scoped(cohort(), practice.prescriber).clinician is None
    assert figures.scoped(cohort(), practice.admin).clinician is None
    http = signed_in(practice.therapist)
    page = http.get("/reports/program/", {"start": START, "end": END}).content.decode()
    assert 'data-figure="started"><a href="/reports/program/started/?' in page
    assert ">1</a>" in page.split('data-figure="started"')[1][:200]


@pytest.mark.parametrize("who", ["nurse", "front_desk"])
def test_the_dashboard_is_not_there_for_others(practice: Practice, who: str) -> None:
    user: User = getattr(practice, who)
    assert signed_in(user).get("/reports/program/").status_code == 404
    assert signed_in(user).get("/reports/program/started/").status_code == 404


def test_bad_filters_name_the_field(practice: Practice) -> None:
    response = signed_in(practice.admin).get(
        "/reports/program/", {"start": "2026-07-01", "end": "2026-01-01"}
    )
    assert response.status_code == 200
    assert "Courses started from: The period must start on or before its end." in (
        response.content.decode()
    )
    assert "board" not in response.context or response.context.get("board") is None
    unknown = signed_in(practice.admin).get("/reports/program/", {"protocol": "ibogaine"})
    assert "Protocol: Select a valid choice" in unknown.content.decode()


def test_drill_down_lists_only_the_readers_clients(
    practice: Practice, clients: list[Client]
) -> None:
    summary(practice.client, outcome=judged(20, 2), therapist=practice.therapist)
    other = clients[1]
    make_member(client=other, staff=practice.outsider, role=CareTeamRole.PRIMARY_THERAPIST)
    summary(other, outcome=judged(20, 3), therapist=practice.therapist)  # a covering therapist
    summary(clients[2], outcome=judged(20, 19), therapist=practice.therapist)

    query = {"start": START, "end": END}
    mine = signed_in(practice.therapist).get("/reports/program/responders/", query)
    assert mine.status_code == 200
    found = mine.context["found"]
    assert found.total == 2
    assert found.visible == 1
    assert [row.client for row in found.rows] == [practice.client]
    assert str(other.public_id) not in mine.content.decode()
    everyone = signed_in(practice.admin).get("/reports/program/responders/", query)
    assert {row.client for row in everyone.context["found"].rows} == {practice.client, other}
    event = AuditEvent.objects.filter(action="outcomes.drill_down").latest("at")
    assert event.detail == {"figure": "responders", "rows": 2, "page": 1}
    assert signed_in(practice.admin).get("/reports/program/nonsense/").status_code == 404


def test_every_figure_key_opens(practice: Practice, clients: list[Client]) -> None:
    from kapcare.outcomes.drilldown import FIGURES

    summary(
        practice.client,
        outcome=judged(20, 2, kept_3_months=False, relapsed=True),
        adverse_events=1,
        safety=[("side_effect", "nausea", "mild", 2)],
        measures_expected=3,
        measures_done=1,
    )
    http = signed_in(practice.admin)
    listed = {}
    for key in FIGURES:
        response = http.get(f"/reports/program/{key}/", {"start": START, "end": END})
        assert response.status_code == 200, key
        listed[key] = response.context["found"].total
    assert listed["started"] == 1
    assert listed["side_effects"] == 1
    assert listed["lost_3_months"] == 1
    assert listed["kept_3_months"] == 0
    assert listed["measures_missed"] == 1
    assert listed["integration_missed"] == 0


def test_csv_export_needs_a_fresh_password_and_is_audited(
    practice: Practice, clients: list[Client]
) -> None:
    summary(practice.client, outcome=judged(20, 2), therapist=practice.therapist)
    summary(clients[1], outcome=judged(20, 3))
    url = "/reports/program/responders/export.csv"
    query = {"start": START, "end": END}
    http = signed_in(practice.therapist)
    stale = http.get(url, query)
    assert stale.status_code == 302
    assert "/accounts/confirm/" in stale["Location"]
    assert not AuditEvent.objects.filter(action="outcomes.export_csv").exists()

    response = reauthenticated(http).get(url, query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["client_id"] for row in rows] == [str(practice.client.public_id)]
    assert rows[0]["baseline"] == "20"
    assert rows[0]["responded"] == "yes"
    event = AuditEvent.objects.get(action="outcomes.export_csv")
    assert event.actor == practice.therapist
    assert event.detail["rows"] == 1


def test_page_queries_do_not_grow_with_courses(practice: Practice, clients: list[Client]) -> None:
    def count(path: str) -> int:
        http = signed_in(practice.admin)
        with CaptureQueriesContext(connection) as queries:
            assert http.get(path, {"start": START, "end": END}).status_code == 200
        return len(queries.captured_queries)

    summary(clients[1], outcome=judged(20, 2), safety=[("side_effect", "nausea", "mild", 1)])
    few = (count("/reports/program/"), count("/reports/program/started/"))
    for index in range(12):
        summary(
            clients[index % 5],
            protocol=list(ROUTES)[index % 4],
            started_on=START + dt.timedelta(days=index * 14),
            outcome=judged(20, index),
            safety=[("side_effect", "dizziness", "moderate", 1)],
        )
    many = (count("/reports/program/"), count("/reports/program/started/"))
    assert few == many


def test_spread_matches_the_sample_standard_deviation() -> None:
    values = [-12, -3, 0, 4, -8, -15]
    mean = statistics.mean(values)
    spread = figures._spread(len(values), mean, statistics.mean(v * v for v in values))
    assert spread.sd == pytest.approx(statistics.stdev(values))
    assert not math.isnan(figures._spread(2, 1.0, 1.0).sd or 0.0)


def test_the_figures_take_four_queries(practice: Practice, clients: list[Client]) -> None:
    """Months with the course totals, protocols with the outcomes, the median, the safety rows:
    the cohort is not scanned once per figure."""
    for index in range(6):
        summary(
            clients[index % 5],
            protocol=list(ROUTES)[index % 4],
            started_on=START + dt.timedelta(days=index * 30),
            outcome=judged(20, index, days_to_response=20 + index),
            safety=[("side_effect", "nausea", "mild", 1)],
        )
    with CaptureQueriesContext(connection) as queries:
        board = figures.dashboard(figures.Filters(start=START, end=END))
    assert len(queries.captured_queries) == 4
    assert board.courses_started == 6
    assert sum(n for _, n in board.by_month) == 6
    assert board.as_of is not None
    assert board.median_days_to_response == 22.5
